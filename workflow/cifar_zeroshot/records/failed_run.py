"""A run whose inference job failed: its record, written in place of each of the job's outputs.

A job that fails inside one model (its build, weights, forward pass) must not stop the metrics
of every other run, and Snakemake runs no job whose inputs are missing. So the job writes each
of its declared outputs as this small JSON record instead of Parquet: Snakemake sees the job
done, the metrics list the run as failed (never scored), and the next successful run of that job
writes its real files over the record. A Parquet file starts with b"PAR1", a record with "{".
"""

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from cifar_zeroshot.core.atomic import atomic_path

_KEY = "failed_run"
_MAX_BYTES = 1 << 16  # a record is a few hundred bytes; never read a whole Parquet file


@dataclass(frozen=True)
class FailedRun:
    test_set: str
    model: str
    variant: str
    error: str  # one line: the problem (and, for a UserError, its fix)
    log: str  # the job's log, with the traceback
    # The output file this record was read from (`snakemake --forcerun <file>` reruns its
    # job); not written into the record, whose every output holds the same text.
    file: str = ""


_WRITTEN = ("test_set", "model", "variant", "error", "log")


def write_failed_outputs(outputs: Iterable[str | Path], failure: FailedRun) -> None:
    """Each of ``outputs`` holds ``failure`` (each written whole, as every output is)."""
    record = {name: value for name, value in asdict(failure).items() if name != "file"}
    text = json.dumps({_KEY: record}, indent=1) + "\n"
    for output in outputs:
        with atomic_path(output) as temp:
            temp.write_text(text, encoding="utf-8")


def read_failed_run(path: str | Path) -> FailedRun | None:
    """The failure ``path`` records, or None for any other file (a run's Parquet file)."""
    with open(path, "rb") as handle:
        head = handle.read(_MAX_BYTES)
    if not head.startswith(b"{"):
        return None
    try:
        record = json.loads(head.decode("utf-8"))[_KEY]
        fields = {name: str(record[name]) for name in _WRITTEN}
    except (ValueError, KeyError, TypeError):
        return None
    return FailedRun(**fields, file=str(path))
