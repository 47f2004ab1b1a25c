"""Fixtures shared by the end-to-end tests."""

import shutil
from pathlib import Path

import pytest
from workflow_runner import SMALL_CONFIG, copy_workflow, snakemake


@pytest.fixture(scope="session")
def _pristine_small_run(tmp_path_factory) -> Path:
    """One finished workflow run with SMALL_CONFIG, made once per session; never modified."""
    workdir = copy_workflow(tmp_path_factory.mktemp("pristine"), SMALL_CONFIG)
    snakemake(workdir)
    return workdir


@pytest.fixture
def finished_small_run(_pristine_small_run, tmp_path) -> Path:
    """A private copy of a finished SMALL_CONFIG run (file times kept, so nothing is stale)."""
    workdir = tmp_path / "finished"
    shutil.copytree(_pristine_small_run, workdir, symlinks=True)
    return workdir
