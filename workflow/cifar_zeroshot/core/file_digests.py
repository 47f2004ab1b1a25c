"""Digests of whole files, read in chunks so that a large archive or weights file never sits in
memory: MD5 for CIFAR-10's archive (its published checksum), SHA-256 for everything else."""

import hashlib
from pathlib import Path


def file_digest(path: str | Path, algorithm: str) -> str:
    """The hex digest of the file's bytes (``algorithm`` as hashlib names it)."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, algorithm).hexdigest()


def file_md5(path: str | Path) -> str:
    return file_digest(path, "md5")


def file_sha256(path: str | Path) -> str:
    return file_digest(path, "sha256")
