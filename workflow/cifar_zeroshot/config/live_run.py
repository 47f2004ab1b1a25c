"""Another run of the workflow alive in this folder, told as such.

Snakemake refuses a second run in a locked folder with advice to use --unlock or
--rerun-incomplete; both are wrong while the first run is still writing. So a run records its
process (onstart, after Snakemake took the lock) and removes the record when it ends; a later
start that finds the record of a live process says so before Snakemake's own refusal.
"""

import json
import os
import socket
from pathlib import Path

from cifar_zeroshot.core.atomic import atomic_path

RUN_RECORD = Path(".snakemake/cifar-zeroshot-run.json")


def record_live_run(path: Path, pid: int, started: str) -> None:
    """This run's process, for a later start to find (written whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        temp.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": started}))


def clear_live_run(path: Path, pid: int) -> None:
    """Remove the record if it is this run's (a later run's record is left alone)."""
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _snakemake_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process running snakemake (not a reused process number)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    try:
        return b"snakemake" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to tell: trust the signal check


def live_run_note(path: Path, this_pid: int) -> str | None:
    """A line saying another run is active in this folder, or None (no record, a record of a
    finished or killed run, or one from another host, which cannot be checked from here)."""
    try:
        record = json.loads(path.read_text())
        pid, host, started = int(record["pid"]), str(record["host"]), str(record["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == this_pid or host != socket.gethostname() or not _snakemake_alive(pid):
        return None
    return (
        f"another run of this workflow is active in this folder (snakemake, pid {pid}, started "
        f"{started}). If Snakemake refuses this one because the folder is locked, do not use "
        f"--unlock or --rerun-incomplete: they would let two runs write the same files. Wait "
        f"for pid {pid} to finish (or stop it), then rerun."
    )
