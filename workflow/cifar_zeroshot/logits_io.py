"""The Parquet files between inference and metrics: their schema, writing and checked reading.

Logits: one row per test image (image_index, label, the 1000 ImageNet logits as float32).
Timing: one row per batch. The run's facts (run_facts.RunFacts) travel as JSON in each file's
schema metadata, so a file describes itself; the timing file's metadata also holds its
run_facts.TimingSummary. A file whose JSON has other keys than those classes is refused.
"""

import json
import logging
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cifar_zeroshot.atomic import atomic_path, remove_stale_temp_files, temp_path
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.labels import NUM_IMAGENET_CLASSES
from cifar_zeroshot.run_facts import RunFacts, TimingSummary

log = logging.getLogger(__name__)

METADATA_KEY = b"cifar_zeroshot"
SUMMARY_METADATA_KEY = b"cifar_zeroshot_summary"

LOGITS_SCHEMA = pa.schema(
    [
        pa.field("image_index", pa.int32(), nullable=False),
        pa.field("label", pa.int8(), nullable=False),
        pa.field(
            "logits",
            pa.list_(pa.field("element", pa.float32(), nullable=False), NUM_IMAGENET_CLASSES),
            nullable=False,
        ),
    ]
)

# Encoding must keep pace with the GPU (AlexNet: about 100,000 images/s, 4 KB of logits each).
# Measured for 10k x 1000 float32 logits streamed in batches of 256, here and on the H200 host:
# zstd over byte-stream-split 139-201 ms (35 MB), lz4 94-134 ms, uncompressed without
# statistics 95-97 ms (41 MB). Logits barely compress and their min/max statistics serve no
# reader, so neither is paid for.
_PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "none",
    "use_dictionary": False,
    "write_statistics": ["image_index", "label"],
}

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


def _schema_with_facts(schema: pa.Schema, facts: RunFacts) -> pa.Schema:
    return schema.with_metadata({METADATA_KEY: facts.to_json()})


class LogitsWriter:
    """Streams batches of logits into a Parquet file from a background thread.

    Encoding runs beside inference instead of after it. The file appears at ``path`` only when
    the context exits cleanly; on an exception the temporary file is deleted, so a half-written
    file can never be mistaken for a result.
    """

    def __init__(self, path: str | Path, facts: RunFacts) -> None:
        self.path = Path(path)
        self.facts = facts
        self._temp = temp_path(self.path)
        self._queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.rows_written = 0

    def __enter__(self) -> "LogitsWriter":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(self.path)
        self._thread = threading.Thread(target=self._drain, name="logits-writer", daemon=True)
        self._thread.start()
        return self

    def _drain(self) -> None:
        try:
            schema = _schema_with_facts(LOGITS_SCHEMA, self.facts)
            with pq.ParquetWriter(self._temp, schema, **_PARQUET_OPTIONS) as writer:
                while (batch := self._queue.get()) is not None:
                    writer.write_batch(batch)
        except BaseException as error:  # re-raised in the inference thread
            self._error = error
            while self._queue.get() is not None:  # unblock the producer
                pass

    def write_batch(self, image_index: np.ndarray, labels: np.ndarray, logits: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        logits = np.ascontiguousarray(logits, dtype=np.float32)
        if logits.ndim != 2 or logits.shape[1] != NUM_IMAGENET_CLASSES:
            raise ValueError(f"logits must be [N, {NUM_IMAGENET_CLASSES}], got {logits.shape}")
        batch = pa.record_batch(
            [
                pa.array(np.asarray(image_index, dtype=np.int32)),
                pa.array(np.asarray(labels, dtype=np.int8)),
                pa.FixedSizeListArray.from_arrays(
                    pa.array(logits.reshape(-1)), NUM_IMAGENET_CLASSES
                ),
            ],
            schema=LOGITS_SCHEMA,
        )
        self._queue.put(batch)
        self.rows_written += len(logits)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join()
        if exc_type is None and self._error is None:
            os.replace(self._temp, self.path)
            log.info("wrote %d rows of logits to %s", self.rows_written, self.path)
            return
        self._temp.unlink(missing_ok=True)
        if exc_type is None and self._error is not None:
            raise self._error


@dataclass(frozen=True)
class LogitsTable:
    image_index: np.ndarray
    labels: np.ndarray
    logits: np.ndarray  # float32 [N, 1000]
    facts: RunFacts


def _metadata_json(path: Path, schema: pa.Schema, key: bytes, what: str) -> dict[str, Any]:
    """The JSON object stored under ``key`` in the schema metadata; ``what`` names it."""
    raw = (schema.metadata or {}).get(key)
    if raw is None:
        raise UserError(
            f"{path} has no cifar_zeroshot {what} in its metadata: it was not written by this "
            "workflow's inference rule. Delete it and rerun snakemake to recreate it."
        )
    try:
        decoded = json.loads(raw)
    except json.JSONDecodeError as error:
        raise UserError(
            f"{path} has unreadable {what} ({error}). Delete it and rerun snakemake."
        ) from None
    if not isinstance(decoded, dict):
        raise UserError(f"{path} has malformed {what}. Delete it and rerun snakemake.")
    return decoded


def _read_facts(path: Path, schema: pa.Schema) -> RunFacts:
    return RunFacts.from_mapping(_metadata_json(path, schema, METADATA_KEY, "run facts"), path)


def _open_parquet(path: Path) -> pq.ParquetFile:
    if not path.exists():
        raise UserError(f"{path} does not exist. Run snakemake to create it.")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise UserError(
            f"{path} is not a readable Parquet file ({error}); it is probably truncated. "
            "Delete it and rerun snakemake (with --rerun-incomplete if asked)."
        ) from None


def read_logits_facts(path: str | Path) -> RunFacts:
    """Only the run facts of a logits file (cheap: the footer, not the logits)."""
    path = Path(path)
    return _read_facts(path, _open_parquet(path).schema_arrow)


def read_logits(path: str | Path) -> LogitsTable:
    """Read a logits file and refuse anything that would give wrong numbers."""
    path = Path(path)
    parquet = _open_parquet(path)
    schema = parquet.schema_arrow
    if not schema.remove_metadata().equals(LOGITS_SCHEMA):
        raise UserError(
            f"{path} does not have the logits schema (image_index int32, label int8, logits "
            f"fixed_size_list<float32>[{NUM_IMAGENET_CLASSES}]); found: "
            f"{', '.join(f'{f.name} {f.type}' for f in schema)}. Delete it and rerun snakemake."
        )
    facts = _read_facts(path, schema)
    try:
        table = parquet.read()
    except (pa.ArrowException, OSError) as error:
        raise UserError(
            f"{path} could not be read ({error}); it is probably truncated. Delete it and rerun."
        ) from None
    expected_rows = facts.image_count
    if table.num_rows != expected_rows:
        raise UserError(
            f"{path} has {table.num_rows} rows but its run facts say {expected_rows} images: the "
            "file is incomplete or altered. Delete it and rerun snakemake."
        )
    image_index = table.column("image_index").to_numpy()
    labels = table.column("label").to_numpy()
    flat = table.column("logits").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    logits = flat.reshape(table.num_rows, NUM_IMAGENET_CLASSES)
    if len(np.unique(image_index)) != len(image_index):
        raise UserError(f"{path} lists some image_index twice. Delete it and rerun snakemake.")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise UserError(f"{path} has labels outside 0..9. Delete it and rerun snakemake.")
    finite = np.isfinite(logits)
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0])
        raise UserError(
            f"{path} contains NaN or infinite logits (first at image_index "
            f"{int(image_index[row])}); metrics from it would be meaningless. Rerun that model "
            "in fp32 to check whether the model or the precision is at fault."
        )
    return LogitsTable(image_index, labels, logits, facts)


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
    parquet = _open_parquet(path)
    schema = parquet.schema_arrow
    missing = set(TIMING_COLUMNS) - set(schema.names)
    if missing:
        raise UserError(
            f"{path} is not a timing file (missing columns {', '.join(sorted(missing))}). "
            "Delete it and rerun snakemake."
        )
    facts = _read_facts(path, schema)
    raw_summary = _metadata_json(path, schema, SUMMARY_METADATA_KEY, "timing summary")
    summary = TimingSummary.from_mapping(raw_summary, path)
    try:
        batches = parquet.read().to_pandas()
    except (pa.ArrowException, OSError) as error:
        raise UserError(f"{path} could not be read ({error}). Delete it and rerun.") from None
    return TimingTable(batches, facts, summary)
