"""Fixtures shared by the end-to-end tests."""

import shutil
from pathlib import Path

import pytest
from filelock import FileLock
from workflow_runner import SMALL_CONFIG, copy_finished_run, copy_workflow, snakemake


@pytest.fixture(scope="session")
def _pristine_small_run(tmp_path_factory, worker_id) -> Path:
    """One finished workflow run with SMALL_CONFIG, made once per session; never modified.

    Under pytest-xdist every worker has its own session: the first to get here makes the run
    in the folder the workers share, under a lock, and the others wait for it and reuse it.
    """
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    workdir = shared / "pristine-small-run"
    with FileLock(f"{workdir}.lock"):
        if not (shared / "pristine-small-run.done").exists():
            shutil.rmtree(workdir, ignore_errors=True)  # a worker that failed half-way
            workdir.mkdir()
            snakemake(copy_workflow(workdir, SMALL_CONFIG))
            (shared / "pristine-small-run.done").touch()
    return workdir


@pytest.fixture
def finished_small_run(_pristine_small_run, tmp_path) -> Path:
    """A private copy of a finished SMALL_CONFIG run (file times kept, so nothing is stale)."""
    return copy_finished_run(_pristine_small_run, tmp_path / "finished")
