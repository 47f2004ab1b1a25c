"""Outputs appear whole or not at all: each is written beside its final path, then renamed.

A reader (the next rule, a rerun) therefore never sees half a file, and a writer that fails
leaves nothing behind. A writer killed outright (SIGKILL) cannot clean up; its temp file keeps
the recognisable name `.<name>.<pid>.tmp` and the next writer of that output removes it.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def remove_stale_temp_files(path: Path) -> None:
    """Delete temp files a killed writer of ``path`` left behind (Snakemake's lock on the
    output means no other live process writes it)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path to write; it replaces ``path`` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path)
    temp = temp_path(path)
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
