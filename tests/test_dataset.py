"""Tests for cifar_zeroshot.dataset: archive format, checksums, safety, download, npz files."""

import functools
import hashlib
import http.server
import io
import socket
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cifar_zeroshot import dataset
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.labels import CIFAR10_CLASSES

DIR = "cifar-10-batches-bin"
META_TEXT = ("\n".join(CIFAR10_CLASSES) + "\n\n").encode()


# --- helpers: archives built by hand, independent of the module's writer ---------------------


def _file(name: str, payload: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    return info, payload


def _special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def _build_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for info, payload in members:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def _records(labels: list[int], planes: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> bytes:
    """CIFAR-10 records written the documented way: label byte, then R, G, B planes row-major."""
    out = bytearray()
    for label, (red, green, blue) in zip(labels, planes, strict=True):
        out.append(label)
        for plane in (red, green, blue):
            out += plane.astype(np.uint8).tobytes(order="C")
    return bytes(out)


def _valid_members(test_bytes: bytes) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    return [
        _special(DIR, tarfile.DIRTYPE),
        _file(f"{DIR}/batches.meta.txt", META_TEXT),
        _file(f"{DIR}/test_batch.bin", test_bytes),
    ]


def _one_record(label: int = 0) -> bytes:
    zero = np.zeros((32, 32), np.uint8)
    return _records([label], [(zero, zero, zero)])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("synthetic") / "cifar-10-binary.tar.gz"
    return path, dataset.write_synthetic_archive(path, images_per_class=20, seed=3)


# --- synthetic archive ------------------------------------------------------------------------


def test_synthetic_archive_is_deterministic_and_has_md5_sidecar(tmp_path, synthetic):
    path, md5 = synthetic
    again = tmp_path / "other" / "copy.tar.gz"
    assert dataset.write_synthetic_archive(again, images_per_class=20, seed=3) == md5
    assert again.read_bytes() == path.read_bytes()
    assert hashlib.md5(path.read_bytes()).hexdigest() == md5
    assert Path(f"{path}.md5").read_text() == f"{md5}\n"
    assert dataset.read_md5_sidecar(f"{path}.md5") == md5
    assert dataset.write_synthetic_archive(tmp_path / "s4.tar.gz", 20, seed=4) != md5
    # Only the archive and its sidecar: no temp files left behind.
    assert sorted(p.name for p in again.parent.iterdir()) == ["copy.tar.gz", "copy.tar.gz.md5"]


def test_synthetic_archive_round_trip_is_balanced_and_separable(synthetic):
    path, _ = synthetic
    with tarfile.open(path) as tar:
        assert set(tar.getnames()) == {DIR, f"{DIR}/batches.meta.txt", f"{DIR}/test_batch.bin"}
    images, labels = dataset.read_test_set_from_archive(path)
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
    with pytest.raises(UserError, match="synthetic_images_per_class"):
        dataset.write_synthetic_archive(tmp_path / "a.tar.gz", images_per_class, seed=0)
    assert list(tmp_path.iterdir()) == []


# --- reading the real binary format -----------------------------------------------------------


def test_reads_hand_made_records_into_hwc_rgb(tmp_path):
    yy, xx = np.mgrid[0:32, 0:32]
    labels = [7, 0, 9]
    planes = [(yy, xx, np.full((32, 32), 100 + label)) for label in labels]
    planes[1] = (yy * 8 % 256, 255 - xx, (yy * 32 + xx) % 251)
    members = [
        *_valid_members(_records(labels, planes)),
        _file(f"{DIR}/data_batch_1.bin", _one_record()),  # other real members are allowed
        _file(f"{DIR}/readme.html", b"<html></html>"),
    ]
    archive = _build_tar(tmp_path / "hand.tar.gz", members)

    images, got_labels = dataset.read_test_set_from_archive(archive)

    assert got_labels.tolist() == labels and got_labels.dtype == np.uint8
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.uint8
    # Pixel (y, x) of record 0 is (R=y, G=x, B=107): planes decoded row-major into HWC.
    assert images[0, 5, 2].tolist() == [5, 2, 107]
    assert images[0, 31, 0].tolist() == [31, 0, 107]
    assert images[2, 0, 17].tolist() == [0, 17, 109]
    for channel, plane in enumerate(planes[1]):
        np.testing.assert_array_equal(images[1, :, :, channel], plane.astype(np.uint8))


def test_wrong_class_names_are_rejected(tmp_path):
    members = _valid_members(_one_record())
    members[1] = _file(f"{DIR}/batches.meta.txt", b"cat\ndog\n")
    archive = _build_tar(tmp_path / "a.tar.gz", members)
    with pytest.raises(UserError, match=r"batches\.meta\.txt lists classes"):
        dataset.read_test_set_from_archive(archive)


def test_label_out_of_range_is_rejected(tmp_path):
    archive = _build_tar(tmp_path / "a.tar.gz", _valid_members(_one_record(label=10)))
    with pytest.raises(UserError, match="label 10"):
        dataset.read_test_set_from_archive(archive)


def test_missing_test_batch_is_rejected(tmp_path):
    archive = _build_tar(tmp_path / "a.tar.gz", _valid_members(_one_record())[:2])
    with pytest.raises(UserError, match="no member 'cifar-10-batches-bin/test_batch.bin'"):
        dataset.read_test_set_from_archive(archive)


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (_file("../evil", b"x"), "unsafe member"),
        (_file(f"{DIR}/../../evil", b"x"), "unsafe member"),
        (_file("/abs/evil", b"x"), "unsafe member"),
        (_special(f"{DIR}/test_batch.bin", tarfile.SYMTYPE, "/etc/passwd"), "unsafe member"),
        (_special(f"{DIR}/data_batch_1.bin", tarfile.LNKTYPE, "/etc/passwd"), "unsafe member"),
        (_special(f"{DIR}/data_batch_2.bin", tarfile.FIFOTYPE), "unsafe member"),
        (_special(f"{DIR}/data_batch_3.bin", tarfile.CHRTYPE), "unsafe member"),
        (_file(f"{DIR}/extra.txt", b"x"), "unexpected member"),
        (_file("cifar-10-batches-py/test_batch", b"x"), "unexpected member"),
        (_special(f"{DIR}/readme.html", tarfile.DIRTYPE), "unexpected member"),
        (_file(f"{DIR}/data_batch_4.bin", b"\0" * 3000), "unexpected member"),
        (_file(f"{DIR}/data_batch_5.bin", b""), "unexpected member"),
        (_file(f"{DIR}/batches.meta.txt", b"a" * 100_000), "unexpected member"),
        (_file(f"{DIR}/test_batch.bin", _one_record()), "unexpected member"),  # duplicate
    ],
    ids=lambda value: value[0].name if isinstance(value, tuple) else None,
)
def test_unsafe_or_unexpected_members_are_rejected(tmp_path, monkeypatch, member, why):
    workdir = tmp_path / "deep" / "work"
    workdir.mkdir(parents=True)
    monkeypatch.chdir(workdir)
    archive = _build_tar(tmp_path / "bad.tar.gz", [*_valid_members(_one_record()), member])
    before = sorted(tmp_path.rglob("*"))

    with pytest.raises(UserError) as caught:
        dataset.read_test_set_from_archive(archive)

    message = str(caught.value)
    assert why in message and str(archive) in message and member[0].name in message
    assert "Fix:" in message
    assert sorted(tmp_path.rglob("*")) == before  # nothing extracted anywhere
    assert not (tmp_path.parent / "evil").exists()


def test_truncated_archive_is_a_user_error(tmp_path, synthetic):
    path, md5 = synthetic
    cut = tmp_path / "cut.tar.gz"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="cut.tar.gz"):
        dataset.read_test_set_from_archive(cut)
    with pytest.raises(UserError, match="bytes but"):
        dataset.prepare_test_set(cut, md5, len(data), tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()


def test_garbage_archive_is_a_user_error(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a gzip at all" * 100)
    with pytest.raises(UserError, match=r"junk\.tar\.gz is not a readable tar\.gz"):
        dataset.read_test_set_from_archive(junk)


# --- checksums ---------------------------------------------------------------------------------


def test_file_md5_matches_hashlib(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(bytes(range(256)) * 9000)  # spans more than one read chunk
    assert dataset.file_md5(path) == hashlib.md5(path.read_bytes()).hexdigest()


def test_verify_archive_accepts_the_right_file(synthetic):
    path, md5 = synthetic
    dataset.verify_archive(path, md5, path.stat().st_size)
    dataset.verify_archive(path, md5.upper())


def test_verify_archive_wrong_size_names_file_and_fix(synthetic):
    path, md5 = synthetic
    size = path.stat().st_size
    with pytest.raises(UserError) as caught:
        dataset.verify_archive(path, md5, size + 1)
    message = str(caught.value)
    assert str(path) in message and f"{size:,} bytes" in message and f"{size + 1:,}" in message
    assert f"delete {path}" in message and "place the right file" in message


def test_verify_archive_corrupted_bytes_fail_the_md5(tmp_path, synthetic):
    path, md5 = synthetic
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "cifar-10-binary.tar.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(UserError) as caught:
        dataset.verify_archive(bad, md5, len(data))
    message = str(caught.value)
    assert str(bad) in message and md5 in message and hashlib.md5(data).hexdigest() in message
    assert f"delete {bad}" in message


def test_verify_archive_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        dataset.verify_archive(tmp_path / "nope.tar.gz", dataset.CIFAR10_MD5)


@pytest.mark.parametrize("content", ["", "zz\n", "abc"])
def test_bad_md5_sidecar(tmp_path, content):
    sidecar = tmp_path / "a.tar.gz.md5"
    sidecar.write_text(content)
    with pytest.raises(UserError, match="a.tar.gz.md5"):
        dataset.read_md5_sidecar(sidecar)


# --- download ----------------------------------------------------------------------------------


@pytest.fixture
def local_http(synthetic) -> Iterator[str]:
    """A loopback-only HTTP server serving the synthetic archive's folder."""
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(synthetic[0].parent)
    )
    handler.log_message = lambda *args: None  # keep the test output quiet
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{synthetic[0].name}"
    finally:
        server.shutdown()
        server.server_close()


def test_download_from_file_url(tmp_path, synthetic):
    path, md5 = synthetic
    dest = tmp_path / "data" / "cifar-10-binary.tar.gz"
    dataset.download_archive(path.as_uri(), dest, md5, path.stat().st_size)
    assert dest.read_bytes() == path.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]


def test_download_from_loopback_http(tmp_path, synthetic, local_http):
    path, md5 = synthetic
    dest = tmp_path / "data" / "cifar-10-binary.tar.gz"
    seen: list[int] = []
    dataset.download_archive(
        local_http, dest, md5, path.stat().st_size, progress=lambda got, total: seen.append(got)
    )
    assert dest.read_bytes() == path.read_bytes()
    assert seen[-1] == path.stat().st_size


def _refused_url() -> str:
    # A port that was free a moment ago on loopback: connecting is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-binary.tar.gz"


def test_download_refused_says_which_file_to_put_where(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = _refused_url()
    with pytest.raises(UserError) as caught:
        dataset.download_archive(
            url, "data/cifar-10-binary.tar.gz", dataset.CIFAR10_MD5, dataset.CIFAR10_ARCHIVE_BYTES
        )
    message = str(caught.value)
    assert message.startswith(f"Could not download {url} (")
    assert "put it at data/cifar-10-binary.tar.gz" in message
    assert "170,052,171 bytes" in message and dataset.CIFAR10_MD5 in message
    assert list((tmp_path / "data").iterdir()) == []  # no .part, no archive


def test_download_with_wrong_checksum_leaves_nothing(tmp_path, synthetic, local_http):
    path, _ = synthetic
    dest = tmp_path / "cifar-10-binary.tar.gz"
    with pytest.raises(UserError, match="MD5 is"):
        dataset.download_archive(local_http, dest, "0" * 32, path.stat().st_size)
    with pytest.raises(UserError, match="larger than the expected 10 bytes"):
        dataset.download_archive(local_http, dest, "0" * 32, 10)
    assert list(tmp_path.iterdir()) == []


def test_download_missing_file_url(tmp_path):
    dest = tmp_path / "cifar-10-binary.tar.gz"
    with pytest.raises(UserError, match="Could not download"):
        dataset.download_archive((tmp_path / "absent").as_uri(), dest, "0" * 32, None)
    assert list(tmp_path.iterdir()) == []


# --- test set npz ------------------------------------------------------------------------------


def test_prepare_test_set_round_trip(tmp_path, synthetic):
    path, md5 = synthetic
    out = tmp_path / "synthetic" / "test_set.npz"
    dataset.prepare_test_set(path, md5, None, out)
    images, labels = dataset.load_test_set(out)
    expected_images, expected_labels = dataset.read_test_set_from_archive(path)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    assert [p.name for p in out.parent.iterdir()] == ["test_set.npz"]


def test_prepare_test_set_checks_md5_first(tmp_path, synthetic):
    path, _ = synthetic
    with pytest.raises(UserError, match="MD5"):
        dataset.prepare_test_set(path, "f" * 32, None, tmp_path / "out.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_test_set_rejects_bad_arrays(tmp_path):
    with pytest.raises(UserError, match="uint8"):
        dataset.save_test_set(tmp_path / "t.npz", np.zeros((2, 32, 32, 3)), np.zeros(2, np.uint8))
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
        dataset.load_test_set(path)
    assert str(path) in str(caught.value) and "Fix:" in str(caught.value)


def test_load_test_set_missing(tmp_path):
    with pytest.raises(UserError, match="not found"):
        dataset.load_test_set(tmp_path / "absent.npz")
