import dataclasses
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from run_files import make_facts, make_summary

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.records.logits import (
    LOGITS_SCHEMA,
    METADATA_KEY,
    SUMMARY_METADATA_KEY,
    TIMING_COLUMNS,
    LogitsWriter,
    read_logits,
    read_logits_facts,
    read_timing,
    write_timing,
)
from cifar_zeroshot.records.run_facts import RunFacts, TimingSummary


def _facts(image_count: int, **changes) -> RunFacts:
    return make_facts("m", image_count=image_count, **changes)


def _summary() -> TimingSummary:
    return make_summary(images_per_second=13.6, end_to_end_images_per_second=12.0)


def _write(path, logits, facts=None, batch=4):
    n = len(logits)
    facts = _facts(n) if facts is None else facts
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
    facts = _facts(10, weights="ResNet50_Weights.IMAGENET1K_V2")
    _write(path, logits, facts)
    table = read_logits(path)
    np.testing.assert_array_equal(table.logits, logits)
    np.testing.assert_array_equal(table.image_index, np.arange(10))
    np.testing.assert_array_equal(table.labels, np.arange(10) % 10)
    assert table.facts == facts == read_logits_facts(path)
    assert table.facts.weights == "ResNet50_Weights.IMAGENET1K_V2"
    assert pq.read_schema(path).remove_metadata().equals(LOGITS_SCHEMA)
    assert [p.name for p in path.parent.iterdir()] == ["fp32.parquet"]


def test_exception_inside_writer_leaves_no_file(tmp_path):
    path = tmp_path / "out.parquet"
    logits = np.zeros((4, 1000), np.float32)
    with pytest.raises(RuntimeError), LogitsWriter(path, _facts(8)) as writer:
        writer.write_batch(np.arange(4), np.zeros(4), logits)
        raise RuntimeError("killed half way")
    assert list(tmp_path.iterdir()) == []


def test_row_count_must_match_facts(tmp_path):
    path = tmp_path / "short.parquet"
    _write(path, np.zeros((6, 1000), np.float32), _facts(8))
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
    write_timing(path, rows, _facts(10), _summary())
    timing = read_timing(path)
    assert list(timing.batches.columns) == list(TIMING_COLUMNS)
    assert timing.batches["images"].tolist() == [4, 4, 2]
    assert timing.summary == _summary()
    assert timing.facts == _facts(10)


def test_temp_file_of_a_killed_writer_is_removed_by_the_next_one(tmp_path):
    path = tmp_path / "fp32.parquet"
    stale = tmp_path / ".fp32.parquet.999999.tmp"
    stale.write_bytes(b"half a file")
    _write(path, np.zeros((2, 1000), np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fp32.parquet"]


def _timing_rows() -> pd.DataFrame:
    return pd.DataFrame({name: [0] for name in TIMING_COLUMNS} | {"warmup": [False], "images": [4]})


def test_metadata_is_the_sorted_json_of_every_field(tmp_path):
    """The stored JSON is what the files have always held: every key, sorted, plain values."""
    logits_path, timing_path = tmp_path / "logits.parquet", tmp_path / "timing.parquet"
    _write(logits_path, np.zeros((2, 1000), np.float32))
    write_timing(timing_path, _timing_rows(), _facts(2), _summary())
    expected_facts = json.dumps(dataclasses.asdict(_facts(2)), sort_keys=True).encode()
    assert pq.read_schema(logits_path).metadata[METADATA_KEY] == expected_facts
    metadata = pq.read_schema(timing_path).metadata
    assert metadata[METADATA_KEY] == expected_facts
    stored_summary = json.loads(metadata[SUMMARY_METADATA_KEY])
    assert list(stored_summary) == sorted(dataclasses.asdict(_summary()))
    assert stored_summary["images_per_second"] == 13.6


def _with_metadata(path, key: bytes, change) -> None:
    """Rewrite the JSON stored under ``key`` with ``change(dict)`` applied."""
    table = pq.read_table(path)
    metadata = dict(table.schema.metadata)
    raw = json.loads(metadata[key])
    change(raw)
    metadata[key] = json.dumps(raw).encode()
    pq.write_table(table.replace_schema_metadata(metadata), path)


@pytest.mark.parametrize("reader", [read_logits, read_logits_facts, read_timing])
@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda raw: raw.pop("threads"), "missing: threads"),
        (lambda raw: raw.update(colour="blue"), "unexpected: colour"),
    ],
)
def test_run_facts_of_another_layout_are_refused(tmp_path, reader, change, detail):
    path = tmp_path / "old.parquet"
    if reader is read_timing:
        write_timing(path, _timing_rows(), _facts(2), _summary())
    else:
        _write(path, np.zeros((2, 1000), np.float32))
    _with_metadata(path, METADATA_KEY, change)
    with pytest.raises(UserError, match=rf"old.parquet .*{detail}.*Delete it and rerun"):
        reader(path)


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda raw: raw.pop("oom_retries"), "missing: oom_retries"),
        (lambda raw: raw.update(gpu_temperature=80), "unexpected: gpu_temperature"),
    ],
)
def test_timing_summary_of_another_layout_is_refused(tmp_path, change, detail):
    path = tmp_path / "timing.parquet"
    write_timing(path, _timing_rows(), _facts(2), _summary())
    _with_metadata(path, SUMMARY_METADATA_KEY, change)
    with pytest.raises(UserError, match=rf"timing.parquet .*{detail}.*Delete it and rerun"):
        read_timing(path)


def test_timing_file_without_a_summary_is_refused(tmp_path):
    path = tmp_path / "nosummary.parquet"
    write_timing(path, _timing_rows(), _facts(2), _summary())
    table = pq.read_table(path)
    metadata = {k: v for k, v in table.schema.metadata.items() if k != SUMMARY_METADATA_KEY}
    pq.write_table(table.replace_schema_metadata(metadata), path)
    with pytest.raises(UserError, match="nosummary.parquet has no cifar_zeroshot timing summary"):
        read_timing(path)
