"""Where a Snakemake job's messages go: every script runs its work inside ``job_log``.

The job's log file receives logging (INFO and up), warnings, progress and, for a bug, the full
traceback; a job that succeeds ends its log with what it wrote and how long it took. The terminal
gets warnings and, for a UserError, the one line that names the problem and the fix. Either
failure exits with status 1, so Snakemake marks the job failed and removes its outputs.
"""

import errno
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from cifar_zeroshot.core.errors import UserError

log = logging.getLogger("cifar_zeroshot")


def _describe_outputs(outputs: Iterable[str | Path]) -> str:
    described = []
    for output in outputs:
        path = Path(output)
        size = f"{path.stat().st_size:,} bytes" if path.is_file() else "missing"
        described.append(f"{path} ({size})")
    return ", ".join(described) or "nothing"


_FILE_SYSTEM_FIXES = {
    errno.ENOSPC: "free some space and rerun",
    errno.EACCES: "make that folder writable and rerun",
    errno.EROFS: "write the results to a writable file system",
}


def error_line(error: Exception, outputs: list[str | Path]) -> str:
    """What went wrong, in a line: the machine's own words for a file-system error, and where.

    A writer that names no file (pyarrow's, for one) is placed by the job's output folders.
    """
    if isinstance(error, OSError) and error.strerror:
        fix = _FILE_SYSTEM_FIXES.get(error.errno or 0, "fix that and rerun")
        if error.filename:
            return f"{error.strerror} while writing {error.filename}: {fix}"
        folders = ", ".join(dict.fromkeys(str(Path(output).parent) for output in outputs))
        if error.errno in _FILE_SYSTEM_FIXES and folders:
            return f"{os.strerror(error.errno)} while writing into {folders}: {fix}"
        return f"{error.strerror}: {fix}"
    return f"{type(error).__name__}: {error} (an unexpected failure)"


@contextmanager
def job_log(log_path: str | Path, outputs: Iterable[str | Path] = ()) -> Iterator[TextIO]:
    """Route this job's messages (see the module docstring); yield the log as a text stream.

    The stream is for progress bars and other text that is not a logging record.
    """
    log_path = Path(log_path)
    outputs = list(outputs)
    began = time.perf_counter()
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        stream = open(log_path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 (closed below)
    except OSError as error:
        print(f"ERROR: cannot write the job's log: {error_line(error, [])}", file=sys.stderr)
        raise SystemExit(1) from None
    with stream:
        to_log = logging.StreamHandler(stream)
        to_log.setLevel(logging.INFO)
        to_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        to_terminal = logging.StreamHandler(sys.stderr)
        to_terminal.setLevel(logging.WARNING)
        to_terminal.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logging.basicConfig(level=logging.INFO, handlers=[to_log, to_terminal], force=True)
        logging.captureWarnings(True)
        try:
            yield stream
        except UserError as error:
            stream.write(f"ERROR: {error}\n")
            print(f"ERROR: {error}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        except Exception as error:
            stream.write(traceback.format_exc())
            message = error_line(error, outputs)
            print(f"ERROR: {message} (details in {log_path})", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        finally:
            logging.captureWarnings(False)
            logging.basicConfig(handlers=[logging.NullHandler()], force=True)
        stream.write(
            f"done in {time.perf_counter() - began:.1f} s; wrote {_describe_outputs(outputs)}\n"
        )
