"""What each Parquet codec costs and saves on a per-image file, and what float16 would change.

    python bench/logits_codecs.py                        # the real sample's SqueezeNet logits
    python bench/logits_codecs.py --file results/features/.../test.parquet --repeats 7

For one per-image file (logits, features or embeddings; default: the real sample's logits,
`./run.sh --configfile config/presets/real-sample.yaml`), it writes the file's rows again with
each candidate (none, lz4, snappy, zstd levels 1, 3 and 9, each with and without
byte-stream-split on the value column, and the workflow's own options) the way the inference
job's writer does (record batches of --batch-size rows, one row group each, into pyarrow's
ParquetWriter, image_index and label statistics kept), then reads them back as the reader does.
Per candidate: bytes per image, the encode and decode time per 10,000 images (the best of
--repeats rounds, the candidates taking turns in each round) and their ratios to the
uncompressed file, the encode rate in MB of values per second on one thread, and whether the
values, image_index and labels came back bit-identical with their statistics.

For a float32 logits file it also measures float16 logits (a lossy reduction, not a codec):
bytes per image under each codec (identical there means: to the float16 values), the largest
absolute logit error, the share of images whose 1000-way ImageNet top-1 changes, and, with the
class mapping (--class-mapping), each pooling's CIFAR-10 top-1 and its agreement with float32,
overall and per true class.

It prints what it measured and asserts nothing.
"""

import argparse
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from cifar_zeroshot.core.labels import CIFAR10_CLASSES  # noqa: E402
from cifar_zeroshot.mapping.tables import read_mapping_csv  # noqa: E402
from cifar_zeroshot.methods.scoring import agreement, pool_all, top1  # noqa: E402
from cifar_zeroshot.records.parquet_rows import (  # noqa: E402
    _PARQUET_OPTIONS,
    RowsLayout,
    read_rows,
)

REAL_SAMPLE_LOGITS = "results/logits/real-sample/squeezenet1_0*/fp32.parquet"
PER_IMAGES = 10_000  # times are stated per this many images


@dataclass(frozen=True)
class Codec:
    compression: str  # pyarrow's name; "none" for uncompressed
    level: int | None
    byte_stream_split: bool

    @property
    def name(self) -> str:
        level = "" if self.level is None else f"-{self.level}"
        return f"{self.compression}{level}" + (" + bss" if self.byte_stream_split else "")

    def options(self, value_column: str) -> dict[str, Any]:
        """ParquetWriter options: the workflow's, with this codec in place of its own."""
        options = {
            key: value
            for key, value in _PARQUET_OPTIONS.items()
            if key not in ("compression", "compression_level", "use_byte_stream_split")
        }
        options["compression"] = self.compression
        if self.level is not None:
            options["compression_level"] = self.level
        # The list's leaf column: byte-stream-split on the int columns would only cost time.
        options["use_byte_stream_split"] = (
            [f"{value_column}.list.element"] if self.byte_stream_split else False
        )
        return options


CODECS = tuple(
    Codec(compression, level, split)
    for compression, level in (
        ("none", None),
        ("lz4", None),
        ("snappy", None),
        ("zstd", 1),
        ("zstd", 3),
        ("zstd", 9),
    )
    for split in (False, True)
)
UNCOMPRESSED = CODECS[0]


@dataclass(frozen=True)
class WorkflowOptions:
    """The options the workflow's writer uses (parquet_rows._PARQUET_OPTIONS), as they are."""

    name: str = "the workflow's options"

    def options(self, value_column: str) -> dict[str, Any]:
        return dict(_PARQUET_OPTIONS)


CANDIDATES: tuple[Codec | WorkflowOptions, ...] = (*CODECS, WorkflowOptions())


@dataclass(frozen=True)
class Rows:
    layout: RowsLayout
    image_index: np.ndarray
    labels: np.ndarray
    values: np.ndarray

    def batches(self, size: int) -> list[pa.RecordBatch]:
        """The record batches RowsWriter.write_batch makes, made before any clock starts."""
        out = []
        for start in range(0, len(self.values), size):
            stop = start + size
            flat = pa.array(np.ascontiguousarray(self.values[start:stop]).reshape(-1))
            out.append(
                pa.record_batch(
                    [
                        pa.array(self.image_index[start:stop]),
                        pa.array(self.labels[start:stop]),
                        pa.FixedSizeListArray.from_arrays(flat, self.layout.width),
                    ],
                    schema=self.layout.schema,
                )
            )
        return out

    def as_type(self, value_type: pa.DataType) -> "Rows":
        layout = RowsLayout(self.layout.column, value_type, self.layout.width)
        values = self.values.astype(layout.numpy_dtype)
        return Rows(layout, self.image_index, self.labels, values)


def read_file_rows(path: Path) -> Rows:
    column = pq.read_schema(path).names[2]  # image_index, label, then the values
    table = read_rows(path, None, column)  # the workflow's checked reader
    layout = RowsLayout(column, pa.from_numpy_dtype(table.values.dtype), table.values.shape[1])
    image_index = table.image_index.astype(np.int32)
    return Rows(layout, image_index, table.labels.astype(np.int8), table.values)


def encode(batches: list[pa.RecordBatch], schema: pa.Schema, options: dict[str, Any]) -> bytes:
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, schema, **options) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue()


def decode(data: bytes, layout: RowsLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As parquet_rows.read_rows reads: the whole table, the values flattened to [N, width]."""
    table = pq.read_table(io.BytesIO(data))
    flat = table.column(layout.column).combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return (
        table.column("image_index").to_numpy(),
        table.column("label").to_numpy(),
        flat.reshape(table.num_rows, layout.width),
    )


@dataclass
class Measured:
    size: int = 0
    encode_seconds: float = float("inf")
    decode_seconds: float = float("inf")
    identical: bool = True
    statistics_kept: bool = True


def _identical(rows: Rows, decoded: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bool:
    image_index, labels, values = decoded
    bits = np.dtype(f"u{rows.values.dtype.itemsize}")
    return (
        np.array_equal(image_index, rows.image_index)
        and np.array_equal(labels, rows.labels)
        and values.dtype == rows.values.dtype
        and np.array_equal(values.view(bits), rows.values.view(bits))
    )


def _statistics_kept(data: bytes) -> bool:
    """Every row group has image_index and label min/max (the block reader relies on them)."""
    metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    return all(
        metadata.row_group(g).column(c).is_stats_set
        for g in range(metadata.num_row_groups)
        for c in (0, 1)
    )


def measure(rows: Rows, batch_size: int, repeats: int) -> dict[Codec | WorkflowOptions, Measured]:
    batches = rows.batches(batch_size)
    schema = rows.layout.schema
    measured = {codec: Measured() for codec in CANDIDATES}
    for _ in range(repeats):
        for codec in CANDIDATES:  # the candidates take turns: load on the machine hits them alike
            entry = measured[codec]
            begin = time.perf_counter()
            data = encode(batches, schema, codec.options(rows.layout.column))
            entry.encode_seconds = min(entry.encode_seconds, time.perf_counter() - begin)
            begin = time.perf_counter()
            decoded = decode(data, rows.layout)
            entry.decode_seconds = min(entry.decode_seconds, time.perf_counter() - begin)
            entry.size = len(data)
            entry.identical &= _identical(rows, decoded)
            entry.statistics_kept &= _statistics_kept(data)
    return measured


def codec_table(rows: Rows, measured: dict[Codec | WorkflowOptions, Measured]) -> str:
    n = len(rows.values)
    per = PER_IMAGES / n
    value_mb = rows.values.nbytes / 1e6
    base = measured[UNCOMPRESSED]
    lines = [
        "| codec | bytes/image | size / none | encode ms per 10k | encode / none | "
        "encode MB/s | decode ms per 10k | decode / none | bit-identical | statistics |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for codec, entry in measured.items():
        lines.append(
            f"| {codec.name} | {entry.size / n:,.0f} | {entry.size / base.size:.3f} "
            f"| {entry.encode_seconds * per * 1e3:,.1f} "
            f"| {entry.encode_seconds / base.encode_seconds:.2f} "
            f"| {value_mb / entry.encode_seconds:,.0f} "
            f"| {entry.decode_seconds * per * 1e3:,.1f} "
            f"| {entry.decode_seconds / base.decode_seconds:.2f} "
            f"| {'yes' if entry.identical else 'NO'} "
            f"| {'kept' if entry.statistics_kept else 'MISSING'} |"
        )
    return "\n".join(lines)


def _percent(x: float) -> str:
    return f"{100 * x:.1f} %"


def float16_effects(logits: np.ndarray, labels: np.ndarray, mapping: Path | None) -> list[str]:
    """What scoring float16 logits (widened back to float32, as a reader would) changes."""
    reduced = logits.astype(np.float16).astype(np.float32)
    error = np.abs(reduced - logits)
    scale = np.abs(logits).max(axis=1)
    changed = np.argmax(reduced, axis=1) != np.argmax(logits, axis=1)
    lines = [
        f"- largest |logit error|: {error.max():.3g} ({error.max() / scale.max():.2g} of the "
        f"largest |logit|); largest per image relative to that image's largest |logit|: "
        f"{(error.max(axis=1) / scale).max():.2g}",
        f"- images whose ImageNet top-1 (argmax of 1000) changes: {int(changed.sum())} of "
        f"{len(logits)} ({_percent(changed.mean())})",
    ]
    if mapping is None or not mapping.exists():
        lines.append("- CIFAR-10 figures: no class mapping given (--class-mapping)")
        return lines
    groups, _ = read_mapping_csv(mapping)
    full, half = pool_all(logits, groups), pool_all(reduced, groups)
    for pooling in full:
        full_top1, half_top1 = top1(full[pooling]), top1(half[pooling])
        per_class = [
            agreement(half_top1[labels == k], full_top1[labels == k])
            for k in range(len(CIFAR10_CLASSES))
            if (labels == k).any()
        ]
        lines.append(
            f"- {pooling}: CIFAR-10 top-1 float32 {_percent((full_top1 == labels).mean())}, "
            f"float16 {_percent((half_top1 == labels).mean())}; agreement "
            f"{_percent(agreement(half_top1, full_top1))} (per true class: lowest "
            f"{_percent(min(per_class))}); changed predictions "
            f"{int((half_top1 != full_top1).sum())}"
        )
    return lines


def _default_file() -> Path | None:
    found = sorted(REPO.glob(REAL_SAMPLE_LOGITS))
    return found[0] if found else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=None, help="a per-image Parquet file")
    parser.add_argument("--batch-size", type=int, default=256, help="rows per record batch")
    parser.add_argument("--repeats", type=int, default=5, help="rounds; each figure is the best")
    parser.add_argument(
        "--class-mapping", type=Path, default=REPO / "results" / "class_mapping.csv"
    )
    args = parser.parse_args(argv)
    path = args.file or _default_file()
    if path is None:
        parser.error(
            f"no {REAL_SAMPLE_LOGITS} yet: run ./run.sh --configfile "
            "config/presets/real-sample.yaml first, or pass --file"
        )
    if not path.exists():
        parser.error(f"{path} does not exist: pass a per-image file of a finished run")
    rows = read_file_rows(path)
    n, layout = len(rows.values), rows.layout
    print(
        f"{path}: {n:,} images x {layout.width} {layout.value_type} {layout.column}, "
        f"{path.stat().st_size / n:,.0f} bytes/image on disk; record batches of "
        f"{args.batch_size}, best of {args.repeats} rounds, pyarrow {pa.__version__}\n"
    )
    measured = measure(rows, args.batch_size, args.repeats)
    print(codec_table(rows, measured))
    if layout.column != "logits" or layout.value_type != pa.float32():
        return
    half = rows.as_type(pa.float16())
    print(f"\nfloat16 {layout.column} (lossy: identical means to the float16 values):\n")
    half_measured = measure(half, args.batch_size, args.repeats)
    print(codec_table(half, half_measured))
    print()
    print("\n".join(float16_effects(rows.values, rows.labels, args.class_mapping)))


if __name__ == "__main__":
    main()
