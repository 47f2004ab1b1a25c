"""Tests for cifar_zeroshot.data.checksums: MD5, size, and the .md5 sidecar."""

import hashlib

import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import CIFAR10_MD5
from cifar_zeroshot.data.checksums import (
    md5_sidecar_path,
    read_md5_sidecar,
    verify_archive,
    write_md5_sidecar,
)


def test_verify_archive_accepts_the_right_file(synthetic):
    path, md5 = synthetic
    verify_archive(path, md5, path.stat().st_size)
    verify_archive(path, md5.upper())


def test_verify_archive_wrong_size_names_file_and_fix(synthetic):
    path, md5 = synthetic
    size = path.stat().st_size
    with pytest.raises(UserError) as caught:
        verify_archive(path, md5, size + 1)
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
        verify_archive(bad, md5, len(data))
    message = str(caught.value)
    assert str(bad) in message and md5 in message and hashlib.md5(data).hexdigest() in message
    assert f"delete {bad}" in message


def test_verify_archive_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found. Fix: rerun the workflow"):
        verify_archive(tmp_path / "nope.tar.gz", CIFAR10_MD5)


def test_md5_sidecar_round_trip(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"some archive bytes")
    md5 = write_md5_sidecar(archive)
    assert md5_sidecar_path(archive) == tmp_path / "a.tar.gz.md5"
    assert (tmp_path / "a.tar.gz.md5").read_text() == f"{md5}\n"
    assert md5 == hashlib.md5(b"some archive bytes").hexdigest()
    assert read_md5_sidecar(tmp_path / "a.tar.gz.md5") == md5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz", "a.tar.gz.md5"]


def test_md5_sidecar_accepts_md5sum_format_and_upper_case(tmp_path):
    sidecar = tmp_path / "a.tar.gz.md5"
    sidecar.write_text(f"{'AB' * 16}  a.tar.gz\n")
    assert read_md5_sidecar(sidecar) == "ab" * 16


@pytest.mark.parametrize("content", ["", "zz\n", "abc"])
def test_bad_md5_sidecar(tmp_path, content):
    sidecar = tmp_path / "a.tar.gz.md5"
    sidecar.write_text(content)
    with pytest.raises(UserError, match="a.tar.gz.md5"):
        read_md5_sidecar(sidecar)


def test_missing_md5_sidecar(tmp_path):
    with pytest.raises(UserError, match="Cannot read checksum file .*Fix: delete it"):
        read_md5_sidecar(tmp_path / "absent.md5")


def test_verify_archive_names_the_sidecar_when_the_md5_came_from_it(tmp_path, synthetic):
    path, md5 = synthetic
    sidecar = tmp_path / "cifar-10-binary.tar.gz.md5"
    wrong = "0" * 32
    sidecar.write_text(f"{wrong}\n")
    with pytest.raises(UserError) as caught:
        verify_archive(path, read_md5_sidecar(sidecar), md5_source=sidecar)
    message = str(caught.value)
    # Not blamed on the archive alone: both files are named, and the fix deletes both.
    assert f"does not match its checksum file {sidecar}" in message
    assert f"{md5} but {wrong} was expected" in message
    assert f"delete both {path} and {sidecar}" in message
