"""Where a Snakemake job's messages go: every script runs its work inside ``job_log``.

The job's log file receives logging (INFO and up), warnings, progress and, for a bug, the full
traceback; a job that succeeds ends its log with what it wrote and how long it took. The terminal
gets warnings and, for a UserError, the one line that names the problem and the fix. Either
failure exits with status 1, so Snakemake marks the job failed and removes its outputs.
"""

import logging
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from cifar_zeroshot.errors import UserError

log = logging.getLogger("cifar_zeroshot")


def _describe_outputs(outputs: Iterable[str | Path]) -> str:
    described = []
    for output in outputs:
        path = Path(output)
        size = f"{path.stat().st_size:,} bytes" if path.is_file() else "missing"
        described.append(f"{path} ({size})")
    return ", ".join(described) or "nothing"


@contextmanager
def job_log(log_path: str | Path, outputs: Iterable[str | Path] = ()) -> Iterator[TextIO]:
    """Route this job's messages (see the module docstring); yield the log as a text stream.

    The stream is for progress bars and other text that is not a logging record.
    """
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with open(log_path, "w", encoding="utf-8", buffering=1) as stream:
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
            print(
                f"ERROR: {type(error).__name__}: {error} (an unexpected failure; the traceback is "
                f"in {log_path})",
                file=sys.stderr,
                flush=True,
            )
            raise SystemExit(1) from None
        finally:
            logging.captureWarnings(False)
            logging.basicConfig(handlers=[logging.NullHandler()], force=True)
        outputs = list(outputs)
        stream.write(
            f"done in {time.perf_counter() - began:.1f} s; wrote {_describe_outputs(outputs)}\n"
        )
