"""Refusals before any job starts: Snakemake must not delete finished outputs for a job that
cannot succeed (checked with the files' modification times)."""

import os
import shutil
from collections import namedtuple
from pathlib import Path

import pytest
from workflow_runner import SMALL_CONFIG, copy_workflow, snakemake, write_config

from cifar_zeroshot.config.workspace import (
    check_cuda_for_local_jobs,
    check_free_space,
    check_output_folders,
)
from cifar_zeroshot.core.errors import UserError


def _mtimes(folder: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.e2e
def test_cuda_without_cuda_is_refused_before_any_output_is_deleted(finished_small_run):
    finished = finished_small_run
    before = _mtimes(finished / "results")
    assert any(path.suffix == ".parquet" for path in before)
    write_config(finished, {**SMALL_CONFIG, "device": "cuda"})
    result = snakemake(finished, "--keep-going", check=False)
    assert result.returncode != 0
    assert "ERROR: device 'cuda' was asked for" in result.stderr
    assert "Traceback" not in result.stderr
    assert _mtimes(finished / "results") == before


@pytest.mark.e2e
def test_a_file_where_a_folder_belongs_is_refused_in_one_line(tmp_path):
    workdir = copy_workflow(tmp_path, SMALL_CONFIG)
    (workdir / "data").mkdir()
    (workdir / "data/synthetic").write_text("not a folder")
    result = snakemake(workdir, "--dry-run", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "ERROR: data/synthetic is a file, but the workflow writes into a folder" in output
    assert "Traceback" not in output


def test_output_folders_may_be_missing_but_not_files(tmp_path):
    check_output_folders([tmp_path / "data/synthetic", tmp_path / "results"])  # none exist yet
    (tmp_path / "results").write_text("")
    with pytest.raises(UserError, match=r"results is a file.*move or delete"):
        check_output_folders([tmp_path / "results/logits"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_a_read_only_folder_is_refused(tmp_path):
    (tmp_path / "logs").mkdir(mode=0o555)
    with pytest.raises(UserError, match=r"logs is not writable.*chmod u\+w"):
        check_output_folders([tmp_path / "logs/inference"])


def test_a_full_disk_is_refused_with_the_space_needed(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10 * 2**20, 9 * 2**20, 2**20))
    check_free_space(tmp_path / "results", 2**19)
    with pytest.raises(UserError, match=r"No space left on device.*about 40.0 MiB.*only 1.0 MiB"):
        check_free_space(tmp_path / "results", 40 * 2**20)
    # A small run on a nearly full disk: not "0 MiB needed, 0 MiB free".
    with pytest.raises(UserError, match=r"about 1.2 MiB under .*results, but only 1.0 MiB"):
        check_free_space(tmp_path / "results", 1_234_567)


def test_cuda_is_only_checked_for_jobs_that_run_here(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    check_cuda_for_local_jobs("auto", jobs_run_here=True)
    check_cuda_for_local_jobs("cuda", jobs_run_here=False)  # a cluster: nodes may have GPUs
    with pytest.raises(UserError, match="Nothing was run or deleted"):
        check_cuda_for_local_jobs("cuda", jobs_run_here=True)
