"""Tests for data.shifted_selection: CIFAR-10-C's selected blocks joined into one image set."""

import numpy as np
import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.image_set import ImageSet, load_image_set, save_image_set
from cifar_zeroshot.data.shifted_selection import (
    block_of_rows,
    read_selection_table,
    write_selection,
)


def _block(tmp_path, corruption, severity, value, md5="a" * 32, member=None):
    path = tmp_path / f"{corruption}{severity}.npz"
    images = np.full((4, 32, 32, 3), value, np.uint8)
    labels = np.array([0, 1, 2, 3], np.uint8)
    member = member or f"CIFAR-10-C/{corruption}.npy"
    save_image_set(path, images, labels, md5, ImageSet.TEST, member=member, severity=severity)
    return corruption, severity, path


def test_blocks_are_joined_in_order_cut_to_the_limit_and_mapped_back(tmp_path):
    blocks = [_block(tmp_path, "fog", 1, 10), _block(tmp_path, "fog", 5, 50)]
    blocks.append(_block(tmp_path, "snow", 2, 20))
    out, table_path = tmp_path / "sel" / "test_set.npz", tmp_path / "sel" / "blocks.csv"
    write_selection(blocks, 3, out, table_path)
    images, labels = load_image_set(out, ImageSet.TEST)
    assert labels.tolist() == [0, 1, 2] * 3
    assert images[:, 0, 0, 0].tolist() == [10] * 3 + [50] * 3 + [20] * 3
    table = read_selection_table(table_path)
    corruption, severity = block_of_rows(table, np.arange(9))
    assert list(corruption) == ["fog"] * 6 + ["snow"] * 3
    assert list(severity) == [1] * 3 + [5] * 3 + [2] * 3


def test_a_misplaced_block_or_one_from_another_archive_is_refused(tmp_path):
    out, table = tmp_path / "test_set.npz", tmp_path / "blocks.csv"
    moved = _block(tmp_path, "fog", 1, 10, member="CIFAR-10-C/snow.npy")
    with pytest.raises(UserError, match="holds CIFAR-10-C/snow.npy at severity 1, not CIFAR-10-C"):
        write_selection([moved], None, out, table)
    mixed = [_block(tmp_path, "fog", 1, 10), _block(tmp_path, "fog", 2, 10, md5="b" * 32)]
    with pytest.raises(UserError, match="the other blocks from one with MD5 a{32}"):
        write_selection(mixed, None, out, table)
    assert not out.exists() and not table.exists()
