"""Tests for cifar_zeroshot.data.synthetic: the deterministic stand-in archive."""

import gzip
import hashlib
import logging
import tarfile
from pathlib import Path

import numpy as np
import pytest
from archive_builders import DIR

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import TRAIN_MEMBERS, read_test_batch, read_train_batches
from cifar_zeroshot.data.checksums import read_md5_sidecar
from cifar_zeroshot.data.synthetic import write_synthetic_archive


def test_synthetic_archive_is_deterministic_and_has_md5_sidecar(tmp_path, synthetic):
    path, md5 = synthetic
    again = tmp_path / "other" / "copy.tar.gz"
    assert write_synthetic_archive(again, images_per_class=20, seed=3) == md5
    assert again.read_bytes() == path.read_bytes()
    assert hashlib.md5(path.read_bytes()).hexdigest() == md5
    assert Path(f"{path}.md5").read_text() == f"{md5}\n"
    assert read_md5_sidecar(f"{path}.md5") == md5
    assert write_synthetic_archive(tmp_path / "s4.tar.gz", 20, seed=4) != md5
    # Only the archive and its sidecar: no temp files left behind.
    assert sorted(p.name for p in again.parent.iterdir()) == ["copy.tar.gz", "copy.tar.gz.md5"]


def test_synthetic_archive_content_is_pinned(synthetic):
    # The tar inside the gzip is pinned, so a change to the generator (which would change
    # every synthetic benchmark result) is noticed; the gzip bytes themselves may differ
    # between zlib builds.
    path, _ = synthetic
    tar_bytes = gzip.decompress(path.read_bytes())
    assert len(tar_bytes) == 624_640
    assert hashlib.md5(tar_bytes).hexdigest() == "ceee74472affbd3b99574cadcb91dda1"


def test_synthetic_archive_round_trip_is_balanced_and_separable(synthetic):
    path, _ = synthetic
    with tarfile.open(path) as tar:
        assert set(tar.getnames()) == {DIR, f"{DIR}/batches.meta.txt", f"{DIR}/test_batch.bin"}
    images, labels = read_test_batch(path)
    assert images.shape == (200, 32, 32, 3) and images.dtype == np.uint8
    assert labels.shape == (200,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [20] * 10
    assert not np.array_equal(labels, np.sort(labels))  # interleaved, not in class blocks
    # Class patterns differ: a nearest-class-mean rule fitted on half the images labels the
    # other half correctly.
    flat = images.reshape(len(images), -1).astype(np.float64)
    fit, held = np.arange(len(images)) % 2 == 0, np.arange(len(images)) % 2 == 1
    means = np.stack([flat[fit & (labels == c)].mean(axis=0) for c in range(10)])
    distances = ((flat[held][:, None, :] - means[None]) ** 2).sum(axis=2)
    assert (distances.argmin(axis=1) == labels[held]).mean() > 0.9


@pytest.mark.parametrize("images_per_class", [0, -1, 1001, 2.5, True])
def test_synthetic_archive_rejects_bad_size(tmp_path, images_per_class):
    with pytest.raises(UserError, match="synthetic_images_per_class") as caught:
        write_synthetic_archive(tmp_path / "a.tar.gz", images_per_class, seed=0)
    assert "Fix: set it" in str(caught.value) and "1000" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_synthetic_archive_rejects_bad_seed(tmp_path, seed):
    with pytest.raises(UserError, match="synthetic_seed must be a non-negative integer"):
        write_synthetic_archive(tmp_path / "a.tar.gz", 1, seed=seed)
    assert list(tmp_path.iterdir()) == []


def test_synthetic_archive_logs_what_it_wrote(tmp_path, caplog):
    dest = tmp_path / "a.tar.gz"
    with caplog.at_level(logging.INFO, logger="cifar_zeroshot"):
        md5 = write_synthetic_archive(dest, 2, seed=0)
    assert f"wrote {dest} with 20 images" in caplog.text and md5 in caplog.text


@pytest.fixture(scope="module")
def with_training(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("with_training") / "cifar-10-binary.tar.gz"
    return path, write_synthetic_archive(path, 20, seed=3, train_images_per_class=3)


def test_training_batches_are_deterministic_and_leave_the_test_batch_alone(
    tmp_path, synthetic, with_training
):
    path, md5 = with_training
    again = tmp_path / "again.tar.gz"
    assert write_synthetic_archive(again, 20, seed=3, train_images_per_class=3) == md5
    assert again.read_bytes() == path.read_bytes() and read_md5_sidecar(f"{path}.md5") == md5
    assert md5 != synthetic[1]
    assert write_synthetic_archive(tmp_path / "t4.tar.gz", 20, 3, train_images_per_class=4) != md5
    # The test batch's images and labels are those of the archive without training batches.
    for got, expected in zip(read_test_batch(path), read_test_batch(synthetic[0]), strict=True):
        np.testing.assert_array_equal(got, expected)
    # train_images_per_class=0 is the archive without training batches, byte for byte.
    none = tmp_path / "none.tar.gz"
    write_synthetic_archive(none, 20, seed=3, train_images_per_class=0)
    assert none.read_bytes() == synthetic[0].read_bytes()


def test_training_batches_content_is_pinned(with_training):
    # As for the test batch: a change to the training images' stream is noticed.
    tar_bytes = gzip.decompress(with_training[0].read_bytes())
    assert len(tar_bytes) == 716_800
    assert hashlib.md5(tar_bytes).hexdigest() == "1a6152ff286d31e31250638ea0b0217c"


def test_training_batches_split_evenly_balanced_and_unlike_the_test_images(with_training):
    path, _ = with_training
    with tarfile.open(path) as tar:
        sizes = {member.name: member.size for member in tar.getmembers()}
    assert [sizes.get(name) for name in TRAIN_MEMBERS] == [6 * 3073] * 5
    images, labels = read_train_batches(path)
    assert images.shape == (30, 32, 32, 3) and np.bincount(labels).tolist() == [3] * 10
    assert not np.array_equal(labels, np.sort(labels))
    test_images, test_labels = read_test_batch(path)
    assert not {i.tobytes() for i in images} & {i.tobytes() for i in test_images}
    # Drawn by the same generator: each training image is nearest its class's test mean.
    flat_test = test_images.reshape(len(test_images), -1).astype(np.float64)
    means = np.stack([flat_test[test_labels == c].mean(axis=0) for c in range(10)])
    flat = images.reshape(len(images), -1).astype(np.float64)
    distances = ((flat[:, None, :] - means[None]) ** 2).sum(axis=2)
    assert (distances.argmin(axis=1) == labels).mean() > 0.9


@pytest.mark.parametrize("train_images_per_class", [-1, 5001, 2.5, True, "3", None])
def test_synthetic_archive_rejects_bad_training_size(tmp_path, train_images_per_class):
    with pytest.raises(UserError, match="synthetic_train_images_per_class") as caught:
        write_synthetic_archive(
            tmp_path / "a.tar.gz", 1, 0, train_images_per_class=train_images_per_class
        )
    assert "Fix: set it" in str(caught.value) and "5000" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_synthetic_archive_logs_its_training_images(tmp_path, caplog):
    dest = tmp_path / "a.tar.gz"
    with caplog.at_level(logging.INFO, logger="cifar_zeroshot"):
        write_synthetic_archive(dest, 2, seed=0, train_images_per_class=3)
    assert f"wrote {dest} with 20 images and 30 training images" in caplog.text
