"""Whole-file digests, held against hashlib on the bytes in memory."""

import hashlib

from cifar_zeroshot.core.file_digests import file_md5, file_sha256


def test_file_digests_match_hashlib(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(bytes(range(256)) * 9000)  # spans more than one read chunk
    assert file_md5(path) == hashlib.md5(path.read_bytes()).hexdigest()
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
