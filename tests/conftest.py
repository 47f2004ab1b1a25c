"""Fixtures shared by the end-to-end tests."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock
from workflow_runner import (
    SHIFTED_SETS_CONFIG,
    SMALL_CONFIG,
    copy_finished_run,
    copy_workflow,
    snakemake,
    write_config,
)


def _shared_run(tmp_path_factory, worker_id, name: str, make: Callable[[Path], None]) -> Path:
    """The folder `name` that `make` fills with a finished run, made once per session.

    Under pytest-xdist every worker has its own session: the first to get here makes the run
    in the folder the workers share, under a lock, and the others wait for it and reuse it.
    """
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    workdir = shared / name
    with FileLock(f"{workdir}.lock"):
        if not (shared / f"{name}.done").exists():
            shutil.rmtree(workdir, ignore_errors=True)  # a worker that failed half-way
            make(workdir)
            (shared / f"{name}.done").touch()
    return workdir


@pytest.fixture(scope="session")
def _pristine_small_run(tmp_path_factory, worker_id) -> Path:
    """One finished workflow run with SMALL_CONFIG, made once per session; never modified."""

    def make(workdir: Path) -> None:
        workdir.mkdir()
        snakemake(copy_workflow(workdir, SMALL_CONFIG))

    return _shared_run(tmp_path_factory, worker_id, "pristine-small-run", make)


@pytest.fixture(scope="session")
def _pristine_shifted_run(_pristine_small_run, tmp_path_factory, worker_id) -> Path:
    """The pristine small run with SHIFTED_SETS_CONFIG's shifted sets added (its CIFAR-10 job
    is not rerun), made once per session; never modified. tests/e2e/test_shifted_sets_workflow.py
    checks what it scores, tests/e2e/test_hostile_inputs.py what edits to it do."""

    def make(workdir: Path) -> None:
        copy_finished_run(_pristine_small_run, workdir)
        write_config(workdir, SHIFTED_SETS_CONFIG)
        snakemake(workdir)

    return _shared_run(tmp_path_factory, worker_id, "pristine-shifted-run", make)


@pytest.fixture
def finished_small_run(_pristine_small_run, tmp_path) -> Path:
    """A private copy of a finished SMALL_CONFIG run (file times kept, so nothing is stale)."""
    return copy_finished_run(_pristine_small_run, tmp_path / "finished")
