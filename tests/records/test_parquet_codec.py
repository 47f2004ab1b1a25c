"""The per-image files' codec (parquet_rows._PARQUET_OPTIONS): what each kind of file is written
with, that every value comes back bit for bit, and that files written uncompressed still read."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from run_files import make_facts

from cifar_zeroshot.records.embeddings import EmbeddingsWriter, read_embeddings
from cifar_zeroshot.records.features import FeaturesWriter, read_features
from cifar_zeroshot.records.logits import (
    LOGITS_LAYOUT,
    LOGITS_SCHEMA,
    LogitsWriter,
    read_logits,
)
from cifar_zeroshot.records.parquet_rows import METADATA_KEY


def _awkward_values(rows: int, width: int) -> np.ndarray:
    """Logit-like values plus every float32 a codec could mishandle: -0.0, subnormals, extremes,
    and runs of one value (which byte-stream-split and zstd compress)."""
    rng = np.random.default_rng(7)
    values = (rng.standard_normal((rows, width)) * 3).astype(np.float32)
    specials = np.array(
        [-0.0, 0.0, 1e-45, -1e-45, 1.1754942e-38, np.finfo(np.float32).max, -3.4e38, 1.0],
        dtype=np.float32,
    )
    values[0, : len(specials)] = specials
    values[1, :] = 0.25  # a constant row
    values[2, : width // 2] = 0.0  # half zeros, as after a ReLU
    return values


def _write(writer_type, path, values, *width, batch=3):
    n = len(values)
    facts = make_facts("m", image_count=n)
    with writer_type(path, facts, *width) as writer:
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            writer.write_batch(
                np.arange(start, stop), np.arange(start, stop) % 10, values[start:stop]
            )
    return facts


def _column_chunks(path, column: int):
    metadata = pq.ParquetFile(path).metadata
    return [metadata.row_group(g).column(column) for g in range(metadata.num_row_groups)]


def _bits(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)


@pytest.mark.parametrize(
    ("writer_type", "reader", "width", "codec", "encoding"),
    [
        (LogitsWriter, read_logits, (), "ZSTD", "BYTE_STREAM_SPLIT"),
        (EmbeddingsWriter, read_embeddings, (512,), "ZSTD", "BYTE_STREAM_SPLIT"),
        # Features stay uncompressed: their encoding would slow a GPU job that times them.
        (FeaturesWriter, read_features, (64,), "UNCOMPRESSED", "PLAIN"),
    ],
)
def test_each_kind_is_written_with_its_codec_and_reads_back_bit_identical(
    tmp_path, writer_type, reader, width, codec, encoding
):
    values = _awkward_values(8, width[0] if width else 1000)
    path = tmp_path / "out.parquet"
    facts = _write(writer_type, path, values, *width)
    table = reader(path)
    stored = table.logits if hasattr(table, "logits") else table.values
    np.testing.assert_array_equal(_bits(stored), _bits(values))
    assert table.facts == facts
    np.testing.assert_array_equal(table.image_index, np.arange(8))
    np.testing.assert_array_equal(table.labels, np.arange(8) % 10)
    for chunk in _column_chunks(path, 2):
        assert chunk.compression == codec
        assert encoding in chunk.encodings
        assert not chunk.is_stats_set  # min/max of the values serve no reader
    for column in (0, 1):  # image_index and label: the block reader selects row groups by them
        for group, chunk in enumerate(_column_chunks(path, column)):
            assert chunk.is_stats_set
            assert chunk.statistics.min == group * 3  # batches of 3 rows, labels row % 10


def test_compressed_logits_are_smaller_than_uncompressed(tmp_path):
    """On logits of one scale (an untrained model's), the chosen codec pays for itself."""
    values = (np.random.default_rng(3).standard_normal((64, 1000)) * 0.01).astype(np.float32)
    path = tmp_path / "l.parquet"
    _write(LogitsWriter, path, values, batch=64)
    uncompressed = tmp_path / "plain.parquet"
    pq.write_table(pq.read_table(path), uncompressed, compression="none", use_dictionary=False)
    assert path.stat().st_size < 0.9 * uncompressed.stat().st_size


def test_a_logits_file_written_uncompressed_still_reads(tmp_path):
    """Files written before the codec (compression none, no dictionary) need no rerun."""
    values = _awkward_values(6, 1000)
    facts = make_facts("m", image_count=6)
    schema = LOGITS_SCHEMA.with_metadata({METADATA_KEY: facts.to_json()})
    path = tmp_path / "old.parquet"
    with pq.ParquetWriter(
        path,
        schema,
        compression="none",
        use_dictionary=False,
        write_statistics=["image_index", "label"],
    ) as writer:
        for start in (0, 3):
            rows = np.arange(start, start + 3)
            writer.write_batch(
                pa.record_batch(
                    [
                        pa.array(rows.astype(np.int32)),
                        pa.array((rows % 10).astype(np.int8)),
                        pa.FixedSizeListArray.from_arrays(
                            pa.array(values[start : start + 3].reshape(-1)), LOGITS_LAYOUT.width
                        ),
                    ],
                    schema=LOGITS_SCHEMA,
                )
            )
    assert {chunk.compression for chunk in _column_chunks(path, 2)} == {"UNCOMPRESSED"}
    table = read_logits(path)
    np.testing.assert_array_equal(_bits(table.logits), _bits(values))
    assert table.facts == facts
