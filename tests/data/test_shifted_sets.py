"""Tests for the shifted test sets' data: .npy headers (npy_arrays), CIFAR-10.1 (cifar10_1),
CIFAR-10-C (cifar10_c) and their synthetic stand-ins (synthetic_shifts)."""

import hashlib
import io
import tarfile

import numpy as np
import pytest
from archive_builders import tar_file, tar_special

from cifar_zeroshot.core.choices import SEVERITIES, SYNTHETIC_CORRUPTIONS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import read_test_batch
from cifar_zeroshot.data.checksums import read_md5_sidecar
from cifar_zeroshot.data.cifar10_1 import prepare_cifar10_1
from cifar_zeroshot.data.cifar10_c import extract_corruption
from cifar_zeroshot.data.image_set import ImageSet, load_image_set, read_image_origin
from cifar_zeroshot.data.npy_arrays import read_npy_images, read_npy_labels
from cifar_zeroshot.data.synthetic_shifts import (
    corrupt,
    write_synthetic_cifar10_1,
    write_synthetic_cifar10_c,
)


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def _images(n: int, value: int = 7) -> np.ndarray:
    return np.full((n, 32, 32, 3), value, np.uint8)


# --- .npy headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("array", "said"),
    [
        (np.zeros((2, 32, 32, 3), np.float32), "float32 [2, 32, 32, 3]"),
        (np.zeros((2, 3, 32, 32), np.uint8), "uint8 [2, 3, 32, 32]"),
        (np.zeros((32, 32, 3), np.uint8), "uint8 [32, 32, 3]"),
        (np.asfortranarray(np.zeros((2, 32, 32, 3), np.uint8)), "Fortran order"),
    ],
)
def test_images_header_must_be_uint8_n_32_32_3(array, said):
    with pytest.raises(UserError) as caught:
        read_npy_images(io.BytesIO(_npy(array)), "f.npy", "Fix: X.")
    message = str(caught.value)
    assert message.startswith("f.npy is not a uint8 [N, 32, 32, 3] image array: its header says")
    assert said in message and message.endswith("Fix: X.")


@pytest.mark.parametrize("claimed", [10**12, 10**18])
def test_a_header_claiming_more_than_the_file_holds_is_refused_before_reading(tmp_path, claimed):
    # A real file: reading the claimed size would ask memory for it (BytesIO would not).
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (claimed, 32, 32, 3)}
    )
    path = tmp_path / "d.npy"
    path.write_bytes(header.getvalue() + _images(2).tobytes())
    with open(path, "rb") as stream, pytest.raises(UserError) as caught:
        read_npy_images(stream, str(path), "Fix: X.")
    message = str(caught.value)
    assert f"{path} holds 6,144 data bytes but its header says ({claimed}, 32, 32, 3)" in message
    assert f"({claimed * 3072:,} bytes): the file is cut or altered. Fix: X." in message


def test_images_cut_short_and_object_arrays_are_refused():
    data = _npy(_images(3))
    with pytest.raises(
        UserError, match="holds 6,144 data bytes but .* \\(9,216 bytes\\): the file"
    ):
        read_npy_images(io.BytesIO(data[:-3072]), "f.npy", "Fix.")
    with pytest.raises(UserError, match="holds 9,217 data bytes"):  # trailing bytes too
        read_npy_images(io.BytesIO(data + b"\0"), "f.npy", "Fix.")
    with pytest.raises(UserError, match="not a NumPy .npy file"):
        read_npy_images(io.BytesIO(b"not an npy file at all"), "f.npy", "Fix.")
    objects = io.BytesIO()
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    objects.seek(0)
    with pytest.raises(UserError, match="is not an integer \\[N\\] label array"):
        read_npy_labels(objects, "l.npy", "Fix.")
    assert read_npy_images(io.BytesIO(data), "f.npy", "Fix.").shape == (3, 32, 32, 3)


def test_labels_must_be_cifar10_class_indices():
    labels = read_npy_labels(io.BytesIO(_npy(np.array([0, 9, 3], np.int32))), "l.npy", "Fix.")
    assert labels.dtype == np.uint8 and labels.tolist() == [0, 9, 3]
    with pytest.raises(UserError, match="has label 10, outside CIFAR-10's 0..9"):
        read_npy_labels(io.BytesIO(_npy(np.array([0, 10], np.int64))), "l.npy", "Fix.")
    with pytest.raises(UserError, match="has label -1"):
        read_npy_labels(io.BytesIO(_npy(np.array([-1, 2], np.int32))), "l.npy", "Fix.")
    with pytest.raises(UserError, match="its header says float64 \\[2\\]"):
        read_npy_labels(io.BytesIO(_npy(np.array([0.0, 1.0]))), "l.npy", "Fix.")


# --- CIFAR-10.1 ----------------------------------------------------------------------------------


def _pair(tmp_path, images: np.ndarray, labels: np.ndarray):
    data, label_file = tmp_path / "d.npy", tmp_path / "l.npy"
    data.write_bytes(_npy(images))
    label_file.write_bytes(_npy(labels))
    expected = {
        "data": (hashlib.md5(data.read_bytes()).hexdigest(), data.stat().st_size),
        "labels": (hashlib.md5(label_file.read_bytes()).hexdigest(), None),
    }
    return data, label_file, expected


def test_cifar10_1_pair_becomes_an_image_set_with_its_origin(tmp_path):
    labels = np.arange(10, dtype=np.int32)
    images = np.stack([_images(1, value)[0] for value in range(10)])
    data, label_file, expected = _pair(tmp_path, images, labels)
    out = tmp_path / "out" / "test_set.npz"
    prepare_cifar10_1(data, label_file, expected, out)
    loaded_images, loaded_labels = load_image_set(out, ImageSet.TEST)
    assert np.array_equal(loaded_images, images) and loaded_labels.tolist() == list(range(10))
    origin = read_image_origin(out, ImageSet.TEST)
    assert (origin.archive_md5, origin.member, origin.severity) == (
        expected["data"][0],
        "d.npy",
        None,
    )


def test_cifar10_1_wrong_checksum_or_mismatched_pair_writes_nothing(tmp_path):
    data, label_file, expected = _pair(tmp_path, _images(3), np.array([1, 2, 3], np.int32))
    out = tmp_path / "test_set.npz"
    wrong = expected | {"labels": ("0" * 32, None)}
    with pytest.raises(UserError, match=f"Archive {label_file} is not the expected file: its MD5"):
        prepare_cifar10_1(data, label_file, wrong, out)
    wrong_size = expected | {"data": (expected["data"][0], 5)}
    with pytest.raises(UserError, match="bytes but 5 were expected"):
        prepare_cifar10_1(data, label_file, wrong_size, out)
    data, label_file, expected = _pair(tmp_path, _images(3), np.array([1, 2], np.int32))
    with pytest.raises(UserError, match="holds 2 labels for the 3 images of .*not a pair"):
        prepare_cifar10_1(data, label_file, expected, out)
    assert not out.exists()


def test_synthetic_cifar10_1_is_a_new_sample_checked_by_its_sidecars(tmp_path, synthetic):
    data, labels = tmp_path / "d.npy", tmp_path / "l.npy"
    write_synthetic_cifar10_1(data, labels, images_per_class=20, seed=3)
    first = data.read_bytes()
    write_synthetic_cifar10_1(data, labels, images_per_class=20, seed=3)
    assert data.read_bytes() == first  # reproducible
    sidecars = {"data": tmp_path / "d.npy.md5", "labels": tmp_path / "l.npy.md5"}
    expected = {part: (read_md5_sidecar(path), None) for part, path in sidecars.items()}
    prepare_cifar10_1(data, labels, expected, tmp_path / "o.npz", sidecars)
    images, shifted_labels = load_image_set(tmp_path / "o.npz", ImageSet.TEST)
    test_images, _ = read_test_batch(synthetic[0])
    assert np.bincount(shifted_labels).tolist() == [20] * 10
    assert images.shape == test_images.shape and not np.array_equal(images, test_images)
    data.write_bytes(first[:-1] + b"\x00")
    with pytest.raises(UserError, match="does not match its checksum file .*d.npy.md5"):
        prepare_cifar10_1(data, labels, expected, tmp_path / "o2.npz", sidecars)


# --- CIFAR-10-C ----------------------------------------------------------------------------------


def _c_tar(path, members) -> str:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for info, payload in members:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    path.write_bytes(raw.getvalue())
    return hashlib.md5(raw.getvalue()).hexdigest()


def _c_members(test_labels: np.ndarray, corruption_images: np.ndarray, labels=None):
    return [
        tar_special("CIFAR-10-C", tarfile.DIRTYPE),
        tar_file(
            "CIFAR-10-C/labels.npy", _npy(np.tile(test_labels, 5) if labels is None else labels)
        ),
        tar_file("CIFAR-10-C/fog.npy", _npy(corruption_images)),
    ]


def _severity_blocks(n: int) -> np.ndarray:
    return np.concatenate([_images(n, 10 * severity) for severity in SEVERITIES])


def test_cifar10_c_corruption_is_split_into_severity_blocks_with_origin(tmp_path):
    test_labels = np.array([3, 1, 4], np.uint8)
    archive = tmp_path / "CIFAR-10-C.tar"
    md5 = _c_tar(archive, _c_members(test_labels, _severity_blocks(3)))
    outs = {s: tmp_path / "fog" / f"severity{s}.npz" for s in SEVERITIES}
    extract_corruption(archive, md5, archive.stat().st_size, "fog", test_labels, outs)
    for severity in SEVERITIES:
        images, labels = load_image_set(outs[severity], ImageSet.TEST)
        assert labels.tolist() == [3, 1, 4] and (images == 10 * severity).all()
        origin = read_image_origin(outs[severity], ImageSet.TEST)
        assert (origin.archive_md5, origin.member, origin.severity) == (
            md5,
            "CIFAR-10-C/fog.npy",
            severity,
        )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (tar_file("CIFAR-10-C/../evil.npy", b"x"), "has an unsafe member 'CIFAR-10-C/../evil.npy'"),
        (tar_special("CIFAR-10-C/snow.npy", tarfile.SYMTYPE, "/etc/passwd"), "unsafe member"),
        (tar_file("CIFAR-10-C/readme.txt", b"x"), "unexpected member 'CIFAR-10-C/readme.txt'"),
    ],
)
def test_cifar10_c_members_are_vetted_before_reading(tmp_path, extra, message):
    test_labels = np.array([3, 1], np.uint8)
    archive = tmp_path / "CIFAR-10-C.tar"
    md5 = _c_tar(archive, [*_c_members(test_labels, _severity_blocks(2)), extra])
    with pytest.raises(UserError, match=message):
        extract_corruption(archive, md5, None, "fog", test_labels, {1: tmp_path / "o.npz"})
    assert list(tmp_path.iterdir()) == [archive]


def test_cifar10_c_labels_must_be_five_copies_of_the_test_labels(tmp_path):
    test_labels = np.array([3, 1], np.uint8)
    archive = tmp_path / "CIFAR-10-C.tar"
    other = np.tile(np.array([3, 2], np.uint8), 5)
    md5 = _c_tar(archive, _c_members(test_labels, _severity_blocks(2), labels=other))
    with pytest.raises(UserError) as caught:
        extract_corruption(archive, md5, None, "fog", test_labels, {1: tmp_path / "o.npz"})
    assert "CIFAR-10-C/labels.npy is not 5 copies of the 2 CIFAR-10 test labels" in str(
        caught.value
    )
    assert "5 differing" in str(caught.value)
    with pytest.raises(UserError, match="has no member 'CIFAR-10-C/snow.npy'"):
        extract_corruption(archive, md5, None, "snow", test_labels, {})
    with pytest.raises(UserError, match="'mist' is not a CIFAR-10-C corruption. Allowed: "):
        extract_corruption(archive, md5, None, "mist", test_labels, {})
    with pytest.raises(UserError, match="its MD5 is"):
        extract_corruption(archive, "0" * 32, None, "fog", test_labels, {})
    assert list(tmp_path.iterdir()) == [archive]


def test_synthetic_cifar10_c_holds_its_corruptions_of_the_synthetic_test_set(tmp_path, synthetic):
    test_images, test_labels = read_test_batch(synthetic[0])
    archive = tmp_path / "CIFAR-10-C.tar"
    md5 = write_synthetic_cifar10_c(archive, test_images, test_labels, seed=3)
    assert write_synthetic_cifar10_c(tmp_path / "again.tar", test_images, test_labels, 3) == md5
    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())
    assert names == sorted(
        ["CIFAR-10-C", "CIFAR-10-C/labels.npy"]
        + [f"CIFAR-10-C/{c}.npy" for c in SYNTHETIC_CORRUPTIONS]
    )
    outs = {s: tmp_path / f"s{s}.npz" for s in SEVERITIES}
    sidecar = tmp_path / "CIFAR-10-C.tar.md5"
    extract_corruption(archive, md5, None, "brightness", test_labels, outs, sidecar)
    brighter = [load_image_set(outs[s], ImageSet.TEST)[0].astype(int).mean() for s in SEVERITIES]
    assert brighter == sorted(brighter) and brighter[0] > test_images.mean()
    # Every transform changes the images more as the severity rises.
    for corruption in SYNTHETIC_CORRUPTIONS:
        change = [
            np.abs(corrupt(test_images, corruption, s, 3).astype(int) - test_images).mean()
            for s in (1, 5)
        ]
        assert 0 < change[0] < change[1], corruption
