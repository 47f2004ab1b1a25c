"""The linear probe end to end: offline, synthetic images, untrained weights.

The synthetic classes differ in colour and stripes, so random convolutional features separate
them while zero-shot scoring through the ImageNet mapping stays at chance: an honest check of
the whole probe path without real weights.
"""

import csv
import shutil

import numpy as np
import pytest
from workflow_runner import TEST_CONFIG, copy_workflow, planned_jobs, snakemake

from cifar_zeroshot.features_io import read_features
from cifar_zeroshot.probe_io import read_probe_scores

pytestmark = pytest.mark.e2e

PROBE_CONFIG = {
    **TEST_CONFIG,
    "synthetic_images_per_class": 10,
    "synthetic_train_images_per_class": 100,
    "models": ["squeezenet1_1", "alexnet"],
    "batch_size": 50,
    "threads": 2,
    "linear_probe": True,
}
MODEL_JOBS = {"inference", "inference_with_features", "train_features"}


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("probe"), PROBE_CONFIG)
    result = snakemake(workdir)
    return workdir, result


def _metrics(workdir):
    with open(workdir / "results/metrics.csv", newline="") as handle:
        return {(row["model"], row["method"]): row for row in csv.DictReader(handle)}


def test_the_probe_separates_what_zero_shot_cannot_and_skips_a_model_without_features(
    probe_run,
):
    workdir, result = probe_run
    assert "squeezenet1_1's final layer is AdaptiveAvgPool2d, not a linear classifier" in (
        result.stderr
    )
    metrics = _metrics(workdir)
    assert set(metrics) == {
        ("alexnet", "class_mapping"),
        ("alexnet", "linear_probe"),
        ("squeezenet1_1", "class_mapping"),
    }
    probe, zero_shot = metrics["alexnet", "linear_probe"], metrics["alexnet", "class_mapping"]
    # 100 training images per class; measured 1.00 (chance is 0.10).
    assert float(probe["top1"]) >= 0.8
    assert float(zero_shot["top1"]) <= 0.3
    assert float(probe["top1_ci_low"]) < float(probe["top1"]) <= float(probe["top1_ci_high"])
    assert probe["pooling"] == "" and zero_shot["probe_regularisation"] == ""
    assert float(probe["probe_train_images"]) == 1000
    # Speed and memory are the run's: the same on both rows.
    assert probe["images_per_second"] == zero_shot["images_per_second"]
    assert (workdir / "results/plots/probe_vs_zero_shot.png").stat().st_size > 0
    summary = (workdir / "results/summary.md").read_text()
    assert "| alexnet | fp32 | linear_probe |" in summary


def test_the_probe_equals_an_independent_scikit_learn_fit_on_the_stored_features(probe_run):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    workdir = probe_run[0]
    train = read_features(workdir / "results/features/alexnet/fp32/train.parquet")
    test = read_features(workdir / "results/features/alexnet/fp32/test.parquet")
    probe = read_probe_scores(workdir / "results/probe/alexnet/fp32.parquet")
    scaler = StandardScaler().fit(train.values.astype(np.float64))
    strength, n = probe.record.regularisation, len(train.labels)
    classifier = LogisticRegression(C=1 / (strength * n), max_iter=2000)
    classifier.fit(scaler.transform(train.values.astype(np.float64)), train.labels)
    predicted = classifier.predict(scaler.transform(test.values.astype(np.float64)))
    independent = float(np.mean(predicted == test.labels))
    stored = float(_metrics(workdir)["alexnet", "linear_probe"]["top1"])
    assert abs(stored - independent) <= 0.005


def test_mapping_edits_rerun_no_probe_and_probe_settings_rerun_no_model(probe_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(probe_run[0], workdir, symlinks=True)
    mapping = workdir / "config/class_mapping.yaml"
    mapping.write_text(mapping.read_text() + "\n# edited\n")
    jobs = planned_jobs(workdir)
    assert "metrics" in jobs and not set(jobs) & (MODEL_JOBS | {"linear_probe"})
    jobs = planned_jobs(workdir, "--config", "linear_probe_max_iterations=40")
    assert jobs.get("linear_probe") == 1 and not set(jobs) & MODEL_JOBS
