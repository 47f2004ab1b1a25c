"""Per-image Parquet files that describe themselves: streamed writing and checked reading.

Every per-image file the inference jobs write (logits, features, embeddings) has the same shape:
one row per image with image_index (int32), label (int8) and one fixed-width list of values,
and the run's facts (run_facts.RunFacts) as JSON in the schema metadata. The writer encodes in a
background thread, beside inference; the reader refuses anything that would give wrong numbers.
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
import pyarrow as pa
import pyarrow.parquet as pq

from cifar_zeroshot.core.atomic import remove_stale_temp_files, temp_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.records.run_facts import RunFacts

log = logging.getLogger(__name__)

METADATA_KEY = b"cifar_zeroshot"

# Lossless, so every metric is bit-identical, and cheap enough to keep pace with the GPU
# (AlexNet: about 100,000 images/s, 400 MB/s of logits), encoding in its own thread. Measured
# by bench/logits_codecs.py on one core of a 2-core EPYC VM, batches of 256 (docs/performance.md):
# zstd level 1 over byte-stream-split cuts the real sample's trained SqueezeNet logits from 4,015
# to 3,278 bytes/image (-18 %; its workflow file, batch 50: 4,023 -> 3,314; CLIP embeddings
# -21 %) and encodes 590-740 MB/s against 940-1,400 uncompressed; lz4 and snappy save 12-14 %
# at the same split, zstd levels 3 and 9 no more. Features stay uncompressed: AlexNet's 4096
# halve (-49 %) but encode at 360 MB/s, 22,000 images/s, against 1,150 MB/s: a GPU job that
# writes them beside its logits, and whose timing is the run's speed, would wait for them.
# Only image_index and label keep min/max statistics: block reading selects row groups by them.
_COMPRESSED = ("logits.list.element", "embeddings.list.element")  # each file's value leaf
_PARQUET_OPTIONS: dict[str, Any] = {
    "compression": dict.fromkeys(_COMPRESSED, "zstd"),
    "compression_level": dict.fromkeys(_COMPRESSED, 1),
    "use_byte_stream_split": list(_COMPRESSED),
    "use_dictionary": False,
    "write_statistics": ["image_index", "label"],
}


@dataclass(frozen=True)
class RowsLayout:
    """What one kind of per-image file holds: ``width`` values of ``value_type`` per image."""

    column: str  # e.g. "logits"
    value_type: pa.DataType  # pa.float32() or pa.float16()
    width: int

    @property
    def schema(self) -> pa.Schema:
        values = pa.list_(pa.field("element", self.value_type, nullable=False), self.width)
        return pa.schema(
            [
                pa.field("image_index", pa.int32(), nullable=False),
                pa.field("label", pa.int8(), nullable=False),
                pa.field(self.column, values, nullable=False),
            ]
        )

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(self.value_type.to_pandas_dtype())


class RowsWriter:
    """Streams batches of rows into a Parquet file from a background thread.

    The file appears at ``path`` only when the context exits cleanly; on an exception the
    temporary file is deleted, so a half-written file can never be mistaken for a result.
    """

    def __init__(self, path: str | Path, facts: RunFacts, layout: RowsLayout) -> None:
        self.path = Path(path)
        self.facts = facts
        self.layout = layout
        self._temp = temp_path(self.path)
        self._queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.rows_written = 0

    def __enter__(self) -> "RowsWriter":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(self.path)
        name = f"{self.layout.column}-writer"
        self._thread = threading.Thread(target=self._drain, name=name, daemon=True)
        self._thread.start()
        return self

    def _drain(self) -> None:
        try:
            schema = self.layout.schema.with_metadata({METADATA_KEY: self.facts.to_json()})
            with pq.ParquetWriter(self._temp, schema, **_PARQUET_OPTIONS) as writer:
                while (batch := self._queue.get()) is not None:
                    writer.write_batch(batch)
        except BaseException as error:  # re-raised in the inference thread
            self._error = error
            while self._queue.get() is not None:  # unblock the producer
                pass

    def write_batch(self, image_index: np.ndarray, labels: np.ndarray, values: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        layout = self.layout
        values = np.ascontiguousarray(values, dtype=layout.numpy_dtype)
        if values.ndim != 2 or values.shape[1] != layout.width:
            raise ValueError(f"{layout.column} must be [N, {layout.width}], got {values.shape}")
        batch = pa.record_batch(
            [
                pa.array(np.asarray(image_index, dtype=np.int32)),
                pa.array(np.asarray(labels, dtype=np.int8)),
                pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), layout.width),
            ],
            schema=layout.schema,
        )
        self._queue.put(batch)
        self.rows_written += len(values)

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
            log.info("wrote %d rows of %s to %s", self.rows_written, self.layout.column, self.path)
            return
        self._temp.unlink(missing_ok=True)
        if exc_type is None and self._error is not None:
            raise self._error


def metadata_json(path: Path, schema: pa.Schema, key: bytes, what: str) -> dict[str, Any]:
    """The JSON object stored under ``key`` in the schema metadata; ``what`` names it."""
    raw = (schema.metadata or {}).get(key)
    if raw is None:
        raise UserError(
            f"{path} has no cifar_zeroshot {what} in its metadata: it was not written by this "
            "workflow. Delete it and rerun snakemake to recreate it."
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


def read_facts(path: Path, schema: pa.Schema) -> RunFacts:
    return RunFacts.from_mapping(metadata_json(path, schema, METADATA_KEY, "run facts"), path)


def open_parquet(path: Path) -> pq.ParquetFile:
    if not path.exists():
        raise UserError(f"{path} does not exist. Run snakemake to create it.")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise UserError(
            f"{path} is not a readable Parquet file ({error}); it is probably truncated. "
            "Delete it and rerun snakemake (with --rerun-incomplete if asked)."
        ) from None


def read_file_facts(path: str | Path) -> RunFacts:
    """Only the run facts of a per-image file (cheap: the footer, not the rows)."""
    path = Path(path)
    return read_facts(path, open_parquet(path).schema_arrow)


@dataclass(frozen=True)
class RowsTable:
    image_index: np.ndarray
    labels: np.ndarray
    values: np.ndarray  # [N, width] in the layout's dtype
    facts: RunFacts


def _describe(schema: pa.Schema) -> str:
    return ", ".join(f"{field.name} {field.type}" for field in schema)


@dataclass(frozen=True)
class OpenedRows:
    """A per-image file opened for reading in parts: its layout, facts and index columns (in
    file order), checked as read_rows checks them; values are read by read_values."""

    path: Path
    parquet: pq.ParquetFile
    layout: RowsLayout
    facts: RunFacts
    image_index: np.ndarray
    labels: np.ndarray
    # Per row group, the lowest and highest image_index it holds (its statistics): -1 and
    # the int32 maximum for a row group without them, which may hold any.
    group_ranges: np.ndarray


def _group_ranges(parquet: pq.ParquetFile) -> np.ndarray:
    """[row groups, 2]: each row group's image_index range, from its statistics."""
    metadata = parquet.metadata
    ranges = np.tile(np.array([-1, np.iinfo(np.int32).max], np.int64), (metadata.num_row_groups, 1))
    column = parquet.schema_arrow.get_field_index("image_index")
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(column).statistics
        if statistics is not None and statistics.has_min_max:
            ranges[group] = statistics.min, statistics.max
    return ranges


def _unreadable(path: Path, error: Exception) -> UserError:
    return UserError(
        f"{path} could not be read ({error}); it is probably truncated. Delete it and rerun."
    )


def open_rows(path: str | Path, layout: RowsLayout | None, column: str) -> OpenedRows:
    """A per-image file's schema, facts and image_index and label columns, every check of
    read_rows but the values' made; the values stay on disk.

    ``layout`` None accepts any width of float32 or float16 values in ``column`` (features and
    embeddings, whose width depends on the model).
    """
    path = Path(path)
    parquet = open_parquet(path)
    schema = parquet.schema_arrow.remove_metadata()
    if layout is None:
        field = schema.field(column) if column in schema.names else None
        if field is not None and pa.types.is_fixed_size_list(field.type):
            layout = RowsLayout(column, field.type.value_type, field.type.list_size)
    if layout is None or not schema.equals(layout.schema):
        expected = _describe(layout.schema) if layout else f"a fixed-size list column {column}"
        raise UserError(
            f"{path} does not have the {column} schema ({expected}); found: {_describe(schema)}. "
            "Delete it and rerun snakemake."
        )
    facts = read_facts(path, parquet.schema_arrow)
    try:
        table = parquet.read(columns=["image_index", "label"])
    except (pa.ArrowException, OSError) as error:
        raise _unreadable(path, error) from None
    if table.num_rows != facts.image_count:
        raise UserError(
            f"{path} has {table.num_rows} rows but its run facts say {facts.image_count} images: "
            "the file is incomplete or altered. Delete it and rerun snakemake."
        )
    image_index = table.column("image_index").to_numpy()
    labels = table.column("label").to_numpy()
    if len(np.unique(image_index)) != len(image_index):
        raise UserError(f"{path} lists some image_index twice. Delete it and rerun snakemake.")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CIFAR10_CLASSES):
        raise UserError(
            f"{path} has labels outside 0..{NUM_CIFAR10_CLASSES - 1}. "
            "Delete it and rerun snakemake."
        )
    return OpenedRows(path, parquet, layout, facts, image_index, labels, _group_ranges(parquet))


def _values(table: pa.Table, layout: RowsLayout) -> np.ndarray:
    flat = table.column(layout.column).combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return flat.reshape(table.num_rows, layout.width)


def _check_finite(path: Path, column: str, values: np.ndarray, image_index: np.ndarray) -> None:
    finite = np.isfinite(values)
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0])
        raise UserError(
            f"{path} contains NaN or infinite {column} (first at image_index "
            f"{int(image_index[row])}); metrics from it would be meaningless. Rerun that model "
            "in fp32 to check whether the model or the precision is at fault."
        )


def read_values(rows: OpenedRows, wanted: np.ndarray) -> np.ndarray:
    """The values of the images ``wanted`` (image_index values the file holds, sorted), in that
    order, checked finite. Read one row group at a time, only those whose image_index
    statistics reach ``wanted``, so no more than ``wanted``'s rows and one row group are in
    memory at once."""
    layout, column = rows.layout, rows.layout.column
    values = np.empty((len(wanted), layout.width), dtype=layout.numpy_dtype)
    found = 0
    if len(wanted) == 0:
        return values
    low, high = wanted[0], wanted[-1]
    reach = (rows.group_ranges[:, 1] >= low) & (rows.group_ranges[:, 0] <= high)
    for group in np.flatnonzero(reach).tolist():
        try:
            table = rows.parquet.read_row_group(group, columns=["image_index", column])
        except (pa.ArrowException, OSError) as error:
            raise _unreadable(rows.path, error) from None
        image_index = table.column("image_index").to_numpy()
        where = np.minimum(np.searchsorted(wanted, image_index), len(wanted) - 1)
        hit = wanted[where] == image_index
        if not hit.any():
            continue
        part = _values(table, layout)[hit]
        _check_finite(rows.path, column, part, image_index[hit])
        values[where[hit]] = part
        found += int(hit.sum())
    if found != len(wanted):
        raise ValueError(f"{rows.path} holds {found} of the {len(wanted)} images asked for")
    return values


def read_rows(path: str | Path, layout: RowsLayout | None, column: str) -> RowsTable:
    """Read a per-image file and refuse anything that would give wrong numbers.

    ``layout`` None accepts any width of float32 or float16 values in ``column`` (features and
    embeddings, whose width depends on the model).
    """
    rows = open_rows(path, layout, column)
    try:
        table = rows.parquet.read(columns=[column])
    except (pa.ArrowException, OSError) as error:
        raise _unreadable(rows.path, error) from None
    values = _values(table, rows.layout)
    _check_finite(rows.path, column, values, rows.image_index)
    return RowsTable(rows.image_index, rows.labels, values, rows.facts)
