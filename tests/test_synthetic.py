"""Tests for cifar_zeroshot.synthetic: the deterministic stand-in archive."""

import gzip
import hashlib
import logging
import tarfile
from pathlib import Path

import numpy as np
import pytest
from archive_builders import DIR, synthetic_archive

from cifar_zeroshot.checksums import read_md5_sidecar
from cifar_zeroshot.cifar_archive import read_test_batch
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.synthetic import write_synthetic_archive


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return synthetic_archive(tmp_path_factory.mktemp("synthetic"))


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
