"""Fixtures shared by the data-stage tests."""

from pathlib import Path

import pytest
from archive_builders import synthetic_archive


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A small synthetic archive in CIFAR-10's binary format, and its MD5."""
    return synthetic_archive(tmp_path_factory.mktemp("synthetic"))
