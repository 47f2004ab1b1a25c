import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cifar_zeroshot.errors import UserError
from cifar_zeroshot.logits_io import (
    LOGITS_SCHEMA,
    TIMING_COLUMNS,
    LogitsWriter,
    read_logits,
    read_timing,
    write_timing,
)


def _write(path, logits, facts=None, batch=4):
    n = len(logits)
    facts = {"model": "m", "image_count": n} if facts is None else facts
    with LogitsWriter(path, facts) as writer:
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            writer.write_batch(
                np.arange(start, stop), np.arange(start, stop) % 10, logits[start:stop]
            )


def test_round_trip_keeps_values_schema_and_facts(tmp_path):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((10, 1000)).astype(np.float32)
    path = tmp_path / "m" / "fp32.parquet"
    _write(path, logits, {"model": "m", "image_count": 10, "weights": "none"})
    table = read_logits(path)
    np.testing.assert_array_equal(table.logits, logits)
    np.testing.assert_array_equal(table.image_index, np.arange(10))
    np.testing.assert_array_equal(table.labels, np.arange(10) % 10)
    assert table.facts["weights"] == "none"
    assert pq.read_schema(path).remove_metadata().equals(LOGITS_SCHEMA)
    assert [p.name for p in path.parent.iterdir()] == ["fp32.parquet"]


def test_exception_inside_writer_leaves_no_file(tmp_path):
    path = tmp_path / "out.parquet"
    logits = np.zeros((4, 1000), np.float32)
    with pytest.raises(RuntimeError), LogitsWriter(path, {"image_count": 8}) as writer:
        writer.write_batch(np.arange(4), np.zeros(4), logits)
        raise RuntimeError("killed half way")
    assert list(tmp_path.iterdir()) == []


def test_row_count_must_match_facts(tmp_path):
    path = tmp_path / "short.parquet"
    _write(path, np.zeros((6, 1000), np.float32), {"image_count": 8})
    with pytest.raises(UserError, match=r"short.parquet has 6 rows .* 8 images"):
        read_logits(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_logits_are_refused(tmp_path, bad):
    logits = np.zeros((5, 1000), np.float32)
    logits[3, 17] = bad
    path = tmp_path / "nan.parquet"
    _write(path, logits)
    with pytest.raises(UserError, match=r"nan.parquet contains NaN or infinite logits .* 3\)"):
        read_logits(path)


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "cut.parquet"
    _write(path, np.ones((8, 1000), np.float32))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="cut.parquet is not a readable Parquet file"):
        read_logits(path)


def test_foreign_schema_is_refused(tmp_path):
    path = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"image_index": [0, 1], "score": [0.5, 0.1]}), path)
    with pytest.raises(UserError, match="foreign.parquet does not have the logits schema"):
        read_logits(path)


def test_file_without_run_facts_is_refused(tmp_path):
    path = tmp_path / "nofacts.parquet"
    logits = pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(1000, np.float32)), 1000)
    table = pa.Table.from_arrays(
        [pa.array([0], pa.int32()), pa.array([0], pa.int8()), logits], schema=LOGITS_SCHEMA
    )
    pq.write_table(table, path)
    with pytest.raises(UserError, match="nofacts.parquet has no cifar_zeroshot run facts"):
        read_logits(path)


def test_timing_round_trip(tmp_path):
    rows = pd.DataFrame(
        {
            "batch_index": [0, 1, 2],
            "warmup": [True, False, False],
            "images": [4, 4, 2],
            "padded_images": [4, 4, 4],
            "input_seconds": [0.1, 0.01, 0.01],
            "forward_seconds": [0.5, 0.2, 0.2],
            "output_seconds": [0.0, 0.01, 0.01],
            "total_seconds": [0.6, 0.22, 0.22],
        }
    )
    path = tmp_path / "timing.parquet"
    write_timing(path, rows, {"model": "m"}, {"images_per_second": 13.6})
    timing = read_timing(path)
    assert list(timing.batches.columns) == list(TIMING_COLUMNS)
    assert timing.batches["images"].tolist() == [4, 4, 2]
    assert timing.summary == {"images_per_second": 13.6}
    assert timing.facts == {"model": "m"}


def test_temp_file_of_a_killed_writer_is_removed_by_the_next_one(tmp_path):
    path = tmp_path / "fp32.parquet"
    stale = tmp_path / ".fp32.parquet.999999.tmp"
    stale.write_bytes(b"half a file")
    _write(path, np.zeros((2, 1000), np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fp32.parquet"]
