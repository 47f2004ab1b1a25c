"""The onnxruntime runtime through snakemake: export rule, inference jobs, metrics, refusals.

Starts from the session's finished small run (its data and class mapping are reused) and runs
squeezenet1_1, untrained, in fp32 on torch and on ONNX Runtime: one export, two inference jobs.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_runner import SMALL_CONFIG, copy_finished_run, planned_jobs, snakemake, write_config

from cifar_zeroshot.records.logits import read_logits, read_timing
from cifar_zeroshot.runtimes.onnx_file import check_intact, record_path

pytestmark = pytest.mark.e2e

MODEL = "squeezenet1_1"
CONFIG = {**SMALL_CONFIG, "models": [MODEL], "runtime": ["torch", "onnxruntime"]}
IMAGES = 10 * CONFIG["synthetic_images_per_class"]
METRICS = "results/metrics.csv"
EXPORT = f"results/onnx/{MODEL}.onnx"
TORCH_LOGITS = f"results/logits/cifar10/{MODEL}/fp32.parquet"
ONNX_LOGITS = f"results/logits/cifar10/{MODEL}/fp32-onnxruntime.parquet"
LOGITS_TOLERANCE = 1e-4  # of the largest logit (measured: 3e-7)

# Replaces the export script in one test's copy: the real export, of a model whose operator
# has no ONNX translation, so that the exporter itself gives up.
UNCONVERTIBLE_EXPORT = """
from pathlib import Path

import torch

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.runtimes.onnx_export import export_onnx


@torch.library.custom_op("cifar_zeroshot_test::mystery", mutates_args=())
def mystery(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1)[:, :1000].clone()


@mystery.register_fake
def _(x):
    return x.flatten(1)[:, :1000].clone()


class Mystery(torch.nn.Module):
    def forward(self, x):
        return mystery(x)


with job_log(snakemake.log[0], snakemake.output):
    export_onnx(
        snakemake.wildcards.model,
        snakemake.params.weights,
        Path(snakemake.output.model),
        model_loader=lambda name, weights: Mystery(),
    )
"""


@pytest.fixture(scope="module")
def workdir(_pristine_small_run, tmp_path_factory) -> Path:
    workdir = copy_finished_run(_pristine_small_run, tmp_path_factory.mktemp("onnxruntime") / "run")
    write_config(workdir, CONFIG)
    snakemake(workdir, METRICS)
    return workdir


@pytest.fixture
def own_copy(workdir, tmp_path) -> Path:
    """A private copy of the finished run (file times kept, so nothing is stale)."""
    return copy_finished_run(workdir, tmp_path / "copy")


def test_onnxruntime_logits_agree_with_torch_fp32_in_the_same_files(workdir):
    torch_run = read_logits(workdir / f"results/logits/cifar10/{MODEL}/fp32.parquet")
    onnx_run = read_logits(workdir / f"results/logits/cifar10/{MODEL}/fp32-onnxruntime.parquet")
    assert onnx_run.logits.shape == (IMAGES, 1000)
    np.testing.assert_array_equal(onnx_run.image_index, torch_run.image_index)
    assert np.mean(onnx_run.logits.argmax(1) == torch_run.logits.argmax(1)) >= 0.99
    scale = np.abs(torch_run.logits).max()
    assert np.abs(onnx_run.logits - torch_run.logits).max() <= LOGITS_TOLERANCE * scale
    assert onnx_run.facts.variant == "fp32-onnxruntime"
    timing = read_timing(workdir / f"results/timing/cifar10/{MODEL}/fp32-onnxruntime.parquet")
    assert timing.batches["images"][~timing.batches["warmup"]].sum() == IMAGES


def test_metrics_report_agreement_with_the_torch_fp32_run(workdir):
    metrics = pd.read_csv(workdir / METRICS)
    metrics = metrics[metrics["method"] == "class_mapping"].set_index("variant")
    assert sorted(metrics.index) == ["fp32", "fp32-onnxruntime"]
    assert metrics.loc["fp32-onnxruntime", "agreement_with_fp32"] >= 0.99
    assert np.isnan(metrics.loc["fp32", "agreement_with_fp32"])  # the reference itself


def test_export_reruns_only_when_the_model_or_its_weights_change(workdir):
    assert planned_jobs(workdir, METRICS) == {}
    other_batch = planned_jobs(workdir, METRICS, "--config", "batch_size=8")
    assert other_batch.get("inference") == 2 and "export_onnx" not in other_batch
    other_weights = planned_jobs(workdir, METRICS, "--config", "weights=IMAGENET1K_V1")
    assert other_weights.get("export_onnx") == 1


def _contents(*paths: Path) -> dict[Path, tuple[bytes, int]]:
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths}


def test_a_damaged_export_is_left_by_a_dry_run_and_exported_again_by_a_run(own_copy):
    export = own_copy / EXPORT
    with export.open("r+b") as handle:
        handle.truncate(1000)
    (own_copy / ONNX_LOGITS).unlink()  # so that a job needs the export again
    damaged = _contents(export, record_path(export))

    # A dry run (and --summary, which plans too) changes nothing, and says what a run will do.
    for args in (["--dry-run"], ["--summary"]):
        result = snakemake(own_copy, *args, ONNX_LOGITS, TORCH_LOGITS)
        assert f"WARNING: {EXPORT} is damaged (it has 1,000 bytes, the export wrote" in (
            result.stderr
        ), args
        assert "left as it is, since no job runs now; a run deletes it and" in result.stderr
        assert _contents(export, record_path(export)) == damaged, args

    # A run deletes it while it plans, so the export is made again before the job that needs
    # it; the torch variant never needed it (tests/runtimes/test_onnx_runtime.py runs such an
    # export).
    result = snakemake(own_copy, ONNX_LOGITS, TORCH_LOGITS)
    assert f"WARNING: {EXPORT} was damaged (it has 1,000 bytes" in result.stderr
    assert check_intact(export).size == export.stat().st_size > 1000
    assert read_logits(own_copy / ONNX_LOGITS).logits.shape == (IMAGES, 1000)


@pytest.mark.parametrize("deleted", [EXPORT, f"{EXPORT}.json"])
def test_a_missing_export_or_record_is_made_again_by_a_plain_rerun(own_copy, deleted):
    (own_copy / deleted).unlink()
    jobs = planned_jobs(own_copy)
    # Then the onnxruntime job that read the export, and the metrics; never the torch job.
    assert jobs.get("export_onnx") == 1 and jobs.get("inference") == 1 and "metrics" in jobs


def test_a_model_the_exporter_cannot_convert_stops_only_its_runtime(own_copy):
    (own_copy / "workflow/scripts/export_onnx.py").write_text(UNCONVERTIBLE_EXPORT)
    onnx_log = f"logs/inference/cifar10/{MODEL}/fp32-onnxruntime.log"
    for path in (TORCH_LOGITS, ONNX_LOGITS, EXPORT, onnx_log):
        (own_copy / path).unlink()
    result = snakemake(own_copy, TORCH_LOGITS, ONNX_LOGITS, "--keep-going", check=False)
    assert result.returncode != 0
    message = "ERROR: torch.onnx.export could not convert squeezenet1_1 (none)"
    assert message in result.stderr
    assert "cifar_zeroshot_test.mystery" in result.stderr  # the exporter's reason
    # The torch variant ran; no onnxruntime job started.
    assert (own_copy / TORCH_LOGITS).exists()
    assert not (own_copy / ONNX_LOGITS).exists()
    assert not (own_copy / onnx_log).exists()
    assert not (own_copy / EXPORT).exists()


TIMM = "timm:test_vit.r160_in1k"  # timm's smallest model with a tag, untrained here
TIMM_SLUG = "timm-test_vit.r160_in1k"


def test_a_timm_model_is_exported_and_runs_on_onnxruntime_beside_torch(own_copy):
    """The export rule takes a timm slug and builds it as the inference job does."""
    write_config(own_copy, {**CONFIG, "models": [MODEL, TIMM]})
    logits = [
        f"results/logits/cifar10/{TIMM_SLUG}/{v}.parquet" for v in ("fp32", "fp32-onnxruntime")
    ]
    snakemake(own_copy, *logits)
    record = check_intact(own_copy / f"results/onnx/{TIMM_SLUG}.onnx")
    assert (record.model, record.weights) == (TIMM_SLUG, "none")
    torch_run, onnx_run = (read_logits(own_copy / path) for path in logits)
    assert onnx_run.logits.shape == (IMAGES, 1000)
    scale = np.abs(torch_run.logits).max()
    assert np.abs(onnx_run.logits - torch_run.logits).max() <= LOGITS_TOLERANCE * scale
    assert onnx_run.facts.preprocess_spec == torch_run.facts.preprocess_spec  # timm's own
