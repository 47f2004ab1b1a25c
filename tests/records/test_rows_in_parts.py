"""Tests for reading a per-image file in parts (records.parquet_rows.open_rows, read_values):
the same values and refusals as reading it whole, from only the row groups a part needs."""

import numpy as np
import pyarrow.parquet as pq
import pytest
from run_files import make_facts

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.records.logits import LOGITS_LAYOUT, LogitsWriter
from cifar_zeroshot.records.parquet_rows import open_rows, read_rows, read_values

N = 40


def _write(path, logits, batch=8):
    """Rows in a shuffled order of batches, one row group per batch."""
    order = np.random.default_rng(1).permutation(N)
    with LogitsWriter(path, make_facts("m", image_count=N)) as writer:
        for start in range(0, N, batch):
            rows = order[start : start + batch]
            writer.write_batch(rows, rows % 10, logits[rows])
    return path


def _logits():
    return np.random.default_rng(0).standard_normal((N, 1000)).astype(np.float32)


def test_any_images_read_in_their_order_equal_the_whole_files_rows(tmp_path):
    logits = _logits()
    path = _write(tmp_path / "l.parquet", logits)
    rows = open_rows(path, LOGITS_LAYOUT, "logits")
    whole = read_rows(path, LOGITS_LAYOUT, "logits")
    np.testing.assert_array_equal(rows.image_index, whole.image_index)
    np.testing.assert_array_equal(rows.labels, whole.labels)
    for wanted in (np.arange(N), np.array([3, 17, 39]), np.arange(10, 20), np.array([], int)):
        np.testing.assert_array_equal(read_values(rows, wanted), logits[wanted])


def test_a_part_reads_only_the_row_groups_its_images_may_lie_in(tmp_path, monkeypatch):
    logits = _logits()
    path = tmp_path / "l.parquet"
    with LogitsWriter(path, make_facts("m", image_count=N)) as writer:
        for start in range(0, N, 8):  # batches of consecutive images, as inference writes them
            rows = np.arange(start, start + 8)
            writer.write_batch(rows, rows % 10, logits[rows])
    groups = []
    read_row_group = pq.ParquetFile.read_row_group

    def recording(self, group, *args, **kwargs):
        groups.append(group)
        return read_row_group(self, group, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", recording)
    values = read_values(open_rows(path, LOGITS_LAYOUT, "logits"), np.arange(10, 20))
    np.testing.assert_array_equal(values, logits[10:20])
    assert groups == [1, 2]


def test_a_file_without_statistics_is_read_row_group_by_row_group_all_the_same(tmp_path):
    logits = _logits()
    written = _write(tmp_path / "l.parquet", logits)
    plain = tmp_path / "plain.parquet"
    table = pq.read_table(written)
    pq.write_table(table, plain, row_group_size=8, write_statistics=False)
    rows = open_rows(plain, LOGITS_LAYOUT, "logits")
    assert rows.parquet.metadata.row_group(0).column(0).statistics is None
    np.testing.assert_array_equal(read_values(rows, np.arange(5, 30)), logits[5:30])


def test_a_non_finite_value_is_refused_only_by_the_part_that_reads_it(tmp_path):
    logits = _logits()
    logits[25, 3] = np.inf
    rows = open_rows(_write(tmp_path / "l.parquet", logits), LOGITS_LAYOUT, "logits")
    np.testing.assert_array_equal(read_values(rows, np.arange(20)), logits[:20])
    with pytest.raises(UserError, match=r"NaN or infinite logits \(first at image_index 25\)"):
        read_values(rows, np.arange(20, 40))
