"""Reproducible CSV files: fixed float format, empty cells for missing values, written whole."""

import hashlib
import io
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError

log = logging.getLogger(__name__)

CSV_FLOAT_FORMAT = "%.6g"
# Rows converted to text at a time by write_csv.
CSV_ROWS_PER_BLOCK = 50_000


def _csv_text(frame: pd.DataFrame) -> str:
    """``frame`` without its index as CSV text: floats keep 6 significant digits (so float
    noise below that cannot change the file) and NaN becomes an empty cell (a figure that does
    not apply, rather than a made-up zero)."""
    return frame.to_csv(index=False, float_format=CSV_FLOAT_FORMAT, na_rep="", lineterminator="\n")


def _write_text(text: str, path: str | Path, rows: int) -> None:
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    log.info("wrote %d rows to %s", rows, path)


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as _csv_text gives it; a rerun on equal tables writes identical bytes.

    Streamed into the file a block of rows at a time: the paired tests of 1,000 runs are 4.5
    million rows, whose text whole would take about a gigabyte of memory."""
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(
            handle,
            index=False,
            float_format=CSV_FLOAT_FORMAT,
            na_rep="",
            lineterminator="\n",
            chunksize=CSV_ROWS_PER_BLOCK,
        )
    log.info("wrote %d rows to %s", len(frame), path)


# The last column of a CSV that records its own rows' digest (write_recorded_csv).
DIGEST_COLUMN = "rows_sha256"


def _rows_digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def write_recorded_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """As write_csv, with a last column holding the SHA-256 of the other columns' text, so that a
    file edited by hand is refused when read (read_recorded_csv) instead of believed."""
    lines = _csv_text(frame).rstrip("\n").split("\n")
    digest = _rows_digest(lines)
    recorded = [f"{lines[0]},{DIGEST_COLUMN}", *(f"{line},{digest}" for line in lines[1:])]
    _write_text("\n".join(recorded) + "\n", path, len(frame))


def read_recorded_csv(path: str | Path, fix: str, **read_options: Any) -> pd.DataFrame:
    """A file write_recorded_csv wrote, without its digest column; refused, naming ``path``
    and ``fix``, where its rows are not the ones it was written with."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path} cannot be read ({error}). {fix}") from error
    header, _, column = lines[0].rpartition(",")
    split = [line.rpartition(",") for line in lines[1:]]
    digests = {digest for _, _, digest in split}
    body = [header, *(rows for rows, _, _ in split)]
    if column != DIGEST_COLUMN or digests != {_rows_digest(body)}:
        raise UserError(
            f"{path} is not the file its job wrote: its rows do not match the digest it "
            f"records ({DIGEST_COLUMN}), so it was edited, cut or written by something else. "
            f"{fix}"
        )
    return pd.read_csv(io.StringIO("\n".join(body) + "\n"), **read_options)
