"""Tests for data.shifted_selection: CIFAR-10-C's selected blocks joined into one image set."""

import numpy as np
import pandas as pd
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
    table = read_selection_table(table_path, out)
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


def _selection(tmp_path):
    blocks = [_block(tmp_path, "contrast", 1, 10), _block(tmp_path, "contrast", 5, 50)]
    out, table_path = tmp_path / "sel" / "test_set.npz", tmp_path / "sel" / "blocks.csv"
    write_selection(blocks, None, out, table_path)
    return out, table_path


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        # Severities swapped: severity 5's images would be reported as severity 1's.
        (lambda t: t.assign(severity=t["severity"][::-1].to_numpy()), "('contrast', 5, 0, 4)"),
        # A row deleted and the other widened: one "block" of mixed images.
        (lambda t: t.iloc[:1].assign(images=8), "('contrast', 1, 0, 8)"),
    ],
)
def test_an_edited_blocks_csv_is_refused_naming_both_files(tmp_path, edit, said):
    out, table_path = _selection(tmp_path)
    edit(pd.read_csv(table_path)).to_csv(table_path, index=False)
    with pytest.raises(UserError) as caught:
        read_selection_table(table_path, out)
    message = str(caught.value)
    assert message.startswith(
        f"{table_path} does not describe the blocks of {out}: its row 1 says {said}, the image "
        "set holds ('contrast', 1, 0, 4) there"
    )
    assert message.endswith(
        f"Fix: delete {table_path} and {out} and rerun snakemake to select the blocks again."
    )


def test_another_sets_image_file_in_the_selections_place_is_refused(tmp_path):
    out, table_path = _selection(tmp_path)
    labels = np.arange(20, dtype=np.uint8) % 10
    images = np.zeros((20, 32, 32, 3), np.uint8)
    save_image_set(out, images, labels, "c" * 32, ImageSet.TEST, member="cifar10.1_v6_data.npy")
    with pytest.raises(UserError, match=f"^{out} is not a CIFAR-10-C selection: it records no"):
        read_selection_table(table_path, out)
