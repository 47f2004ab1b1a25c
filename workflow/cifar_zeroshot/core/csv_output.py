"""Reproducible CSV files: fixed float format, empty cells for missing values, written whole."""

import logging
from pathlib import Path

import pandas as pd

from cifar_zeroshot.core.atomic import atomic_path

log = logging.getLogger(__name__)

CSV_FLOAT_FORMAT = "%.6g"


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` without its index; a rerun on equal tables writes identical bytes.

    Floats keep 6 significant digits (so float noise below that cannot change the file) and
    NaN becomes an empty cell (a figure that does not apply, rather than a made-up zero).
    """
    text = frame.to_csv(index=False, float_format=CSV_FLOAT_FORMAT, na_rep="", lineterminator="\n")
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    log.info("wrote %d rows to %s", len(frame), path)
