"""One of two models fails inside its inference job, for real: a damaged weights file in the
Hugging Face cache (planning does not read weights, the job does). The run still ends with the
metrics, figures, summary and report of the other, and names the failed run in each; after the
cache holds a good file, the documented command reruns that job alone and its entry goes.

Starts from the session's finished small run (mobilenet_v3_small) and adds timm's smallest
tagged model with its (planted) pretrained weights.
"""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import timm
from hub_cache_files import cached_file_path
from safetensors.torch import save_file
from workflow_runner import SMALL_CONFIG, copy_finished_run, snakemake, write_config

from cifar_zeroshot.records.failed_run import read_failed_run

pytestmark = pytest.mark.e2e

TIMM = "timm:test_vit.r160_in1k"
SLUG = "timm-test_vit.r160_in1k"
CONFIG = {**SMALL_CONFIG, "models": ["mobilenet_v3_small", {"name": TIMM, "weights": "DEFAULT"}]}
LOGITS = f"results/logits/cifar10/{SLUG}/fp32.parquet"
KEPT = "results/logits/cifar10/mobilenet_v3_small/fp32.parquet"


def _weights_path(hf_home: Path) -> Path:
    return (
        hf_home
        / "hub/models--timm--test_vit.r160_in1k/snapshots"
        / ("0" * 40)
        / ("model.safetensors")
    )


@pytest.fixture(scope="module")
def failed_run(_pristine_small_run, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("failedrun")
    workdir = copy_finished_run(_pristine_small_run, root / "run")
    hf_home = root / "hf"
    # Where the hub cache keeps the tag's file; its bytes are no safetensors file.
    cached_file_path(hf_home / "hub", "timm/test_vit.r160_in1k", "model.safetensors")
    _weights_path(hf_home).write_bytes(b"a download cut short")
    write_config(workdir, CONFIG)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(hf_home))
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.delenv("HF_HUB_CACHE", raising=False)
        result = snakemake(workdir)  # exits 0: the failure is recorded, not fatal
        snakemake(workdir, "--report", "results/report.html")
    (workdir / "snakemake.stderr").write_text(result.stderr)
    return workdir


def test_the_other_model_is_scored_and_the_failed_one_is_not(failed_run):
    metrics = pd.read_csv(failed_run / "results/metrics.csv")
    assert set(metrics["model"]) == {"mobilenet_v3_small"}
    for figure in ["accuracy.png", "speed.png", "accuracy_vs_gflops.png"]:
        assert (failed_run / "results/plots" / figure).stat().st_size > 0
    # Its confusion file says that the run failed (the rule lists one per run).
    assert (failed_run / f"results/plots/confusion/{SLUG}-fp32.png").stat().st_size > 0


def test_the_failed_run_is_listed_with_its_error_and_log(failed_run):
    failed = pd.read_csv(failed_run / "results/failed_runs.csv")
    assert list(zip(failed["test_set"], failed["model"], failed["variant"], strict=True)) == [
        ("cifar10", SLUG, "fp32")
    ]
    error, log = failed["error"][0], failed["log"][0]
    assert error.startswith("Could not load the weights file") and "\n" not in error
    assert log == f"logs/inference/cifar10/{SLUG}/fp32.log"
    assert "Traceback" in (failed_run / log).read_text()
    assert (failed_run / "results/failed_runs.txt").read_text() == f"{LOGITS}\n"
    assert read_failed_run(failed_run / LOGITS) is not None
    assert "recorded as a failed run" in (failed_run / "snakemake.stderr").read_text()


def test_summary_and_report_name_the_failed_run(failed_run):
    summary = (failed_run / "results/summary.md").read_text()
    assert "**Failed runs (1)" in summary
    assert f"- {SLUG} · fp32 on cifar10: Could not load the weights file" in summary
    assert f"(log: logs/inference/cifar10/{SLUG}/fp32.log)" in summary
    html = (failed_run / "results/report.html").read_text(encoding="utf-8")
    assert "Failed runs" in html and "failed_runs.csv" in html


def test_rerun_after_the_fix_replaces_the_failure_and_nothing_else(failed_run, tmp_path):
    workdir = copy_finished_run(failed_run, tmp_path / "fixed")
    hf_home = tmp_path / "hf"
    shutil.copytree(failed_run.parent / "hf", hf_home)
    kept = (workdir / KEPT).stat().st_mtime_ns
    # The fix: the cache holds a real safetensors file of the tag's architecture.
    save_file(timm.create_model("test_vit.r160_in1k").state_dict(), _weights_path(hf_home))
    targets = (workdir / "results/failed_runs.txt").read_text().split()
    env = {"HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        # The README's command (its $(cat ...) split as a shell splits it).
        snakemake(workdir, "--forcerun", *targets)
    assert read_failed_run(workdir / LOGITS) is None
    assert pd.read_csv(workdir / "results/failed_runs.csv").empty
    assert (workdir / "results/failed_runs.txt").read_text() == ""
    metrics = pd.read_csv(workdir / "results/metrics.csv")
    assert set(metrics["model"]) == {"mobilenet_v3_small", SLUG}
    assert "Failed runs" not in (workdir / "results/summary.md").read_text()
    assert (workdir / KEPT).stat().st_mtime_ns == kept  # the other model did not rerun
