"""Tests for cifar_zeroshot.test_set: building, saving and loading test_set.npz."""

import logging
from pathlib import Path

import numpy as np
import pytest
from archive_builders import synthetic_archive

from cifar_zeroshot.cifar_archive import read_test_batch
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.test_set import load_test_set, prepare_test_set, save_test_set


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return synthetic_archive(tmp_path_factory.mktemp("synthetic"))


def test_prepare_test_set_round_trip(tmp_path, synthetic, caplog):
    path, md5 = synthetic
    out = tmp_path / "synthetic" / "test_set.npz"
    with caplog.at_level(logging.INFO, logger="cifar_zeroshot"):
        prepare_test_set(path, md5, None, out)
    images, labels = load_test_set(out)
    expected_images, expected_labels = read_test_batch(path)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    assert [p.name for p in out.parent.iterdir()] == ["test_set.npz"]
    # The job's log says what was checked, read and written.
    assert f"verified {path}" in caplog.text
    assert f"read 200 test images from {path}" in caplog.text
    assert f"wrote 200 test images to {out}" in caplog.text


def test_prepare_test_set_checks_md5_first(tmp_path, synthetic):
    path, _ = synthetic
    with pytest.raises(UserError, match="MD5"):
        prepare_test_set(path, "f" * 32, None, tmp_path / "out.npz")
    assert list(tmp_path.iterdir()) == []


def test_prepare_test_set_rejects_truncated_archive(tmp_path, synthetic):
    path, md5 = synthetic
    cut = tmp_path / "cut.tar.gz"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="bytes but"):
        prepare_test_set(cut, md5, len(data), tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()


def test_save_test_set_rejects_bad_arrays(tmp_path):
    with pytest.raises(UserError, match="uint8"):
        save_test_set(tmp_path / "t.npz", np.zeros((2, 32, 32, 3)), np.zeros(2, np.uint8))
    assert list(tmp_path.iterdir()) == []


def _write_npz(path: Path, **arrays: np.ndarray) -> Path:
    with open(path, "wb") as out:
        np.savez(out, **arrays)
    return path


def _write_npy(path: Path, array: np.ndarray) -> Path:
    with open(path, "wb") as out:
        np.save(out, array)
    return path


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: _write_npz(p, x=np.zeros(3), y=np.ones(3)), "lacks arrays"),
        (
            lambda p: _write_npz(
                p, images=np.zeros((2, 32, 32, 3), np.float32), labels=np.zeros(2, np.uint8)
            ),
            "uint8",
        ),
        (
            lambda p: _write_npz(
                p, images=np.zeros((2, 3, 32, 32), np.uint8), labels=np.zeros(2, np.uint8)
            ),
            r"expected \(N, 32, 32, 3\)",
        ),
        (
            lambda p: _write_npz(
                p, images=np.zeros((2, 32, 32, 3), np.uint8), labels=np.zeros(3, np.uint8)
            ),
            "labels have shape",
        ),
        (
            lambda p: _write_npz(
                p, images=np.zeros((1, 32, 32, 3), np.uint8), labels=np.array([12], np.uint8)
            ),
            "outside 0..9",
        ),
        (
            lambda p: _write_npz(
                p, images=np.zeros((1, 32, 32, 3), np.uint8), labels=np.array([{}], object)
            ),
            "not a readable",
        ),
        (lambda p: _write_npy(p, np.zeros(3)), "single array"),
        (lambda p: p.write_bytes(b"plain text"), "not a readable"),
    ],
)
def test_load_test_set_rejects_foreign_files(tmp_path, make, match):
    path = tmp_path / "test_set.npz"
    make(path)
    with pytest.raises(UserError, match=match) as caught:
        load_test_set(path)
    assert str(path) in str(caught.value) and "Fix:" in str(caught.value)


def test_load_test_set_missing(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_test_set(tmp_path / "absent.npz")
