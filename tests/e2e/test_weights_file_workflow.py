"""A model from the user's weights file through snakemake: planning, inference on torch and on
ONNX Runtime (the export loads the same file), metrics; a changed file reruns its jobs, and logits
of another file are refused by the metrics.

Starts from the session's finished small run (its data and class mapping are reused) and runs
mobilenet_v3_small with a state dict of another seed than the untrained model's.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from safetensors.torch import save_file
from workflow_runner import SMALL_CONFIG, copy_finished_run, planned_jobs, snakemake, write_config

from cifar_zeroshot.core.file_digests import file_sha256
from cifar_zeroshot.records.logits import read_logits

pytestmark = pytest.mark.e2e

MODEL = "mobilenet_v3_small"
WEIGHTS_FILE = "my-weights.safetensors"
CONFIG = {
    **SMALL_CONFIG,
    "models": [{"name": MODEL, "weights_file": WEIGHTS_FILE}],
    "runtime": ["torch", "onnxruntime"],
}
METRICS = "results/metrics.csv"


def _write_weights(path: Path, seed: int) -> str:
    """The untrained architecture's state dict from ``seed``; returns the file's digest."""
    torch.manual_seed(seed)
    save_file(torchvision.models.get_model(MODEL, weights=None).state_dict(), path)
    return file_sha256(path)


def _slug(digest: str) -> str:
    return f"{MODEL}.file-{digest[:8]}"


@pytest.fixture(scope="module")
def workdir(_pristine_small_run, tmp_path_factory) -> Path:
    workdir = copy_finished_run(_pristine_small_run, tmp_path_factory.mktemp("weightsfile") / "run")
    _write_weights(workdir / WEIGHTS_FILE, seed=1)
    write_config(workdir, CONFIG)
    snakemake(workdir, METRICS)
    return workdir


@pytest.fixture
def own_copy(workdir, tmp_path) -> Path:
    return copy_finished_run(workdir, tmp_path / "copy")


def test_the_runs_record_the_files_digest_and_the_export_holds_the_same_weights(workdir):
    digest = file_sha256(workdir / WEIGHTS_FILE)
    folder = workdir / "results/logits/cifar10" / _slug(digest)
    torch_run = read_logits(folder / "fp32.parquet")
    onnx_run = read_logits(folder / "fp32-onnxruntime.parquet")
    for facts in (torch_run.facts, onnx_run.facts):
        assert facts.weights_sha256 == digest
        assert facts.weights == f"file-sha256:{digest}"
        assert facts.model == _slug(digest)
    scale = np.abs(torch_run.logits).max()
    assert np.abs(onnx_run.logits - torch_run.logits).max() <= 1e-4 * scale
    # The untrained model (seed 0) of the finished small run computes other logits.
    untrained = read_logits(workdir / f"results/logits/cifar10/{MODEL}/fp32.parquet")
    assert untrained.facts.weights_sha256 is None
    assert not np.allclose(untrained.logits, torch_run.logits, rtol=1e-3, atol=0)  # ~1e-9 logits
    assert planned_jobs(workdir, METRICS) == {}


def test_a_changed_file_plans_its_models_jobs_again(own_copy):
    _write_weights(own_copy / WEIGHTS_FILE, seed=2)
    jobs = planned_jobs(own_copy, METRICS)
    assert jobs.get("inference") == 2 and jobs.get("export_onnx") == 1 and "metrics" in jobs


def test_the_metrics_refuse_logits_made_from_another_file(own_copy):
    old = _slug(file_sha256(own_copy / WEIGHTS_FILE))
    new = _slug(new_digest := _write_weights(own_copy / WEIGHTS_FILE, seed=2))
    os.utime(own_copy / WEIGHTS_FILE, (1e9, 1e9))  # older than the files put in place below
    # The old file's runs (and export) put where the new file's belong, as if made from it.
    for kind in ("logits", "timing"):
        shutil.copytree(own_copy / f"results/{kind}/cifar10/{old}",
                        own_copy / f"results/{kind}/cifar10/{new}")  # fmt: skip
    for suffix in (".onnx", ".onnx.json"):
        shutil.copy2(
            own_copy / f"results/onnx/{old}{suffix}", own_copy / f"results/onnx/{new}{suffix}"
        )
    assert "inference" not in planned_jobs(own_copy, METRICS)
    result = snakemake(own_copy, METRICS, check=False)
    assert result.returncode != 0
    assert "is not the run the configuration asks for" in result.stderr
    assert f"weights_sha256 is '{old.split('-')[-1]}" in result.stderr
    assert f"expected '{new_digest[:12]}...'" in result.stderr
