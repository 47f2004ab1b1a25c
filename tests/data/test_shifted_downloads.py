"""Loopback HTTP downloads of the shifted test sets' files (the synthetic CIFAR-10.1 pair and
CIFAR-10-C tar), through the one download function the CIFAR-10 archive uses."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from loopback_http import ServerBehaviour, serve_folder

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import read_test_batch
from cifar_zeroshot.data.checksums import read_md5_sidecar
from cifar_zeroshot.data.cifar10_1 import prepare_cifar10_1
from cifar_zeroshot.data.cifar10_c import extract_corruption
from cifar_zeroshot.data.download import download_archive
from cifar_zeroshot.data.image_set import ImageSet, load_image_set
from cifar_zeroshot.data.synthetic_shifts import (
    write_synthetic_cifar10_1,
    write_synthetic_cifar10_c,
)

FILES = ("cifar10.1_v6_data.npy", "cifar10.1_v6_labels.npy", "CIFAR-10-C.tar")


@pytest.fixture(scope="module")
def served_folder(tmp_path_factory, synthetic) -> Path:
    folder = tmp_path_factory.mktemp("served")
    write_synthetic_cifar10_1(folder / FILES[0], folder / FILES[1], 20, seed=3)
    images, labels = read_test_batch(synthetic[0])
    write_synthetic_cifar10_c(folder / FILES[2], images, labels, seed=3)
    return folder


@pytest.fixture
def loopback(served_folder) -> Iterator[str]:
    with serve_folder(served_folder) as base:
        yield base


@pytest.fixture
def cutting_loopback(served_folder) -> Iterator[str]:
    with serve_folder(served_folder, ServerBehaviour(cut_half=True)) as base:
        yield base


def _expected(folder: Path, name: str) -> tuple[str, int]:
    return read_md5_sidecar(folder / f"{name}.md5"), (folder / name).stat().st_size


def test_both_sets_download_over_loopback_and_are_read(
    tmp_path, served_folder, loopback, synthetic
):
    data = tmp_path / "data"
    for name in FILES:
        md5, size = _expected(served_folder, name)
        download_archive(f"{loopback}/{name}", data / name, md5, size)
        assert (data / name).read_bytes() == (served_folder / name).read_bytes()
    pair = {
        "data": _expected(served_folder, FILES[0]),
        "labels": _expected(served_folder, FILES[1]),
    }
    prepare_cifar10_1(data / FILES[0], data / FILES[1], pair, tmp_path / "c101.npz")
    assert len(load_image_set(tmp_path / "c101.npz", ImageSet.TEST)[1]) == 200
    md5, size = _expected(served_folder, FILES[2])
    _, test_labels = read_test_batch(synthetic[0])
    outs = {s: tmp_path / f"noise{s}.npz" for s in range(1, 6)}
    extract_corruption(data / FILES[2], md5, size, "gaussian_noise", test_labels, outs)
    assert np.array_equal(load_image_set(outs[5], ImageSet.TEST)[1], test_labels)
    assert sorted(p.name for p in data.iterdir()) == sorted(FILES)  # no temporary file left


@pytest.mark.parametrize("name", FILES)
def test_checksum_mismatch_leaves_nothing(tmp_path, served_folder, loopback, name):
    _, size = _expected(served_folder, name)
    with pytest.raises(UserError) as caught:
        download_archive(f"{loopback}/{name}", tmp_path / name, "0" * 32, size, retries=0)
    message = str(caught.value)
    assert message.startswith(f"Downloaded {loopback}/{name} but it is not the expected file (")
    assert f"put it at {tmp_path / name}" in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", FILES)
def test_cut_download_is_never_used(tmp_path, served_folder, cutting_loopback, name):
    md5, size = _expected(served_folder, name)
    with pytest.raises(UserError) as caught:
        download_archive(f"{cutting_loopback}/{name}", tmp_path / name, md5, size, retries=0)
    assert f"put it at {tmp_path / name}" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one
