"""The Parquet files between inference and metrics: logits and timing.

Logits: one row per test image (image_index, label, the 1000 ImageNet logits as float32), written
and read by parquet_rows. Timing: one row per batch. The run's facts (run_facts.RunFacts) travel
as JSON in each file's schema metadata, so a file describes itself; the timing file's metadata
also holds its run_facts.TimingSummary. A file whose JSON has other keys than those classes is
refused.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_IMAGENET_CLASSES
from cifar_zeroshot.records.parquet_rows import (
    METADATA_KEY,
    RowsLayout,
    RowsWriter,
    metadata_json,
    open_parquet,
    read_facts,
    read_file_facts,
    read_rows,
)
from cifar_zeroshot.records.run_facts import RunFacts, TimingSummary

log = logging.getLogger(__name__)

SUMMARY_METADATA_KEY = b"cifar_zeroshot_summary"
LOGITS_LAYOUT = RowsLayout("logits", pa.float32(), NUM_IMAGENET_CLASSES)
LOGITS_SCHEMA = LOGITS_LAYOUT.schema

TIMING_COLUMNS: dict[str, str] = {
    "batch_index": "int32",
    "warmup": "bool",
    "images": "int32",  # real images in the batch (padding rows excluded)
    "padded_images": "int32",  # the batch's shape: every batch has the same one
    "input_seconds": "float64",  # host->device transfer and preprocessing
    "forward_seconds": "float64",
    "output_seconds": "float64",  # device->host copy of the logits
    "total_seconds": "float64",
}


class LogitsWriter(RowsWriter):
    """Streams batches of logits into a Parquet file (see parquet_rows.RowsWriter)."""

    def __init__(self, path: str | Path, facts: RunFacts) -> None:
        super().__init__(path, facts, LOGITS_LAYOUT)


@dataclass(frozen=True)
class LogitsTable:
    image_index: np.ndarray
    labels: np.ndarray
    logits: np.ndarray  # float32 [N, 1000]
    facts: RunFacts


read_logits_facts = read_file_facts


def read_logits(path: str | Path) -> LogitsTable:
    """Read a logits file and refuse anything that would give wrong numbers."""
    rows = read_rows(path, LOGITS_LAYOUT, LOGITS_LAYOUT.column)
    return LogitsTable(rows.image_index, rows.labels, rows.values, rows.facts)


@dataclass(frozen=True)
class TimingTable:
    batches: pd.DataFrame
    facts: RunFacts
    summary: TimingSummary


def write_timing(
    path: str | Path, batches: pd.DataFrame, facts: RunFacts, summary: TimingSummary
) -> None:
    """Write the per-batch timing rows; the run facts and the summary go in the metadata."""
    path = Path(path)
    missing = set(TIMING_COLUMNS) - set(batches.columns)
    if missing:
        raise ValueError(f"timing rows lack columns {sorted(missing)}")
    frame = batches[list(TIMING_COLUMNS)].astype(TIMING_COLUMNS)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata(
        {METADATA_KEY: facts.to_json(), SUMMARY_METADATA_KEY: summary.to_json()}
    )
    with atomic_path(path) as temp:
        pq.write_table(table, temp)
    log.info("wrote %d timing rows to %s", len(frame), path)


def read_timing(path: str | Path) -> TimingTable:
    path = Path(path)
    parquet = open_parquet(path)
    schema = parquet.schema_arrow
    missing = set(TIMING_COLUMNS) - set(schema.names)
    if missing:
        raise UserError(
            f"{path} is not a timing file (missing columns {', '.join(sorted(missing))}). "
            "Delete it and rerun snakemake."
        )
    facts = read_facts(path, schema)
    raw_summary = metadata_json(path, schema, SUMMARY_METADATA_KEY, "timing summary")
    summary = TimingSummary.from_mapping(raw_summary, path)
    try:
        batches = parquet.read().to_pandas()
    except (pa.ArrowException, OSError) as error:
        raise UserError(f"{path} could not be read ({error}). Delete it and rerun.") from None
    return TimingTable(batches, facts, summary)
