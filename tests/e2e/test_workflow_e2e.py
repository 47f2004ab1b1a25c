"""The whole workflow, run by snakemake on synthetic data with two small untrained models."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib import image as mpimg
from scipy.stats import binomtest
from workflow_runner import COPIED, REPO, TEST_CONFIG, copy_workflow, planned_jobs, snakemake

from cifar_zeroshot.mapping.tables import read_mapping_csv
from cifar_zeroshot.records.logits import read_logits, read_timing

pytestmark = pytest.mark.e2e

MODELS = TEST_CONFIG["models"]
IMAGES = 10 * TEST_CONFIG["synthetic_images_per_class"]
PLOTS = [
    "speed",
    "memory",
    "accuracy",
    "per_class",
    "accuracy_vs_speed",
    "accuracy_vs_gflops",
    "paired_differences",
    "reliability",
]
TABLES = ["metrics", "per_class", "confusion", "top_confusions"]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("e2e"))
    snakemake(workdir)
    return workdir


def test_logits_and_timing_files_per_model(workdir):
    for model in MODELS:
        table = read_logits(workdir / f"results/logits/cifar10/{model}/fp32.parquet")
        assert table.logits.shape == (IMAGES, 1000)
        np.testing.assert_array_equal(table.image_index, np.arange(IMAGES))
        assert table.facts.model == model
        assert table.facts.weights == "none"
        assert table.facts.device == "cpu"
        timing = read_timing(workdir / f"results/timing/cifar10/{model}/fp32.parquet")
        timed = timing.batches[~timing.batches["warmup"]]
        assert timed["images"].sum() == IMAGES
        assert (timing.batches["padded_images"] == TEST_CONFIG["batch_size"]).all()
        assert timing.summary.images_per_second > 0


def test_mapping_metrics_and_summary(workdir):
    mapping = pd.read_csv(workdir / "results/class_mapping.csv")
    assert list(mapping.columns[:3]) == ["cifar_class", "imagenet_index", "imagenet_name"]
    assert len(mapping) == 222
    metrics = pd.read_csv(workdir / "results/metrics.csv")
    metrics = metrics[metrics["method"] == "class_mapping"]  # balanced rows: tested apart
    assert sorted(metrics["model"]) == sorted(MODELS)
    assert (metrics["images"] == IMAGES).all()
    for column in ["top1", "top5", "top1_ci_low", "top1_ci_high", "images_per_second"]:
        assert metrics[column].notna().all(), column
    assert ((metrics["top1"] >= 0) & (metrics["top1"] <= metrics["top5"])).all()
    for name in TABLES:
        assert len(pd.read_csv(workdir / f"results/{name}.csv")) > 0, name
    summary = (workdir / "results/summary.md").read_text()
    assert all(model in summary for model in MODELS)
    # The leaderboard: CIFAR-10's class-mapping ranking, best first, lettered; its page sorts.
    board = pd.read_csv(workdir / "results/leaderboard.csv", keep_default_na=False)
    ranking = board[(board["test_set"] == "cifar10") & (board["method"] == "class_mapping")]
    assert sorted(ranking["model"]) == sorted(MODELS)
    assert ranking["top1"].astype(float).is_monotonic_decreasing
    assert ranking["rank"].iloc[0] == 1 and "a" in ranking["letters"].iloc[0]
    assert "## Leaderboard" in summary
    page = (workdir / "results/tables/leaderboard.html").read_text()
    assert "<table class='sortable'>" in page


def test_a_paired_row_recomputes_from_the_stored_logits_mapping_and_labels(workdir):
    # Independently of the metrics job: pool the stored logits with the mapping CSV, count the
    # 2x2 table and run SciPy's binomial test on the discordant images.
    paired = pd.read_csv(workdir / "results/paired_tests.csv")
    same_method = (paired["method_a"] == "class_mapping") & (paired["method_b"] == "class_mapping")
    [row] = paired[same_method].to_dict("records")
    groups, _ = read_mapping_csv(workdir / "results/class_mapping.csv")
    right = {}
    for side in ("a", "b"):
        table = read_logits(workdir / f"results/logits/cifar10/{row[f'model_{side}']}/fp32.parquet")
        order = np.argsort(table.image_index)
        scores = np.stack([table.logits[order][:, g].max(axis=1) for g in groups], axis=1)
        right[side] = np.argmax(scores, axis=1) == table.labels[order]
    a, b = right["a"], right["b"]
    counts = [int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum()), int((~a & ~b).sum())]
    assert counts == [
        row["both_right"],
        row["only_a_right"],
        row["only_b_right"],
        row["both_wrong"],
    ]
    discordant = counts[1] + counts[2]
    expected = binomtest(counts[1], discordant).pvalue if discordant else 1.0
    assert row["mcnemar_p"] == pytest.approx(expected, rel=1e-5)  # the CSV keeps 6 digits
    assert (row["dataset"], row["images"]) == ("synthetic", IMAGES)
    metrics = pd.read_csv(workdir / "results/metrics.csv")
    assert metrics[["ece", "nll", "brier"]].notna().all().all()
    assert "## Paired comparisons" in (workdir / "results/summary.md").read_text()


def test_plots_are_real_images(workdir):
    paths = [workdir / f"results/plots/{name}.png" for name in PLOTS]
    paths += [workdir / f"results/plots/confusion/{model}-fp32.png" for model in MODELS]
    for path in paths:
        height, width = mpimg.imread(path).shape[:2]
        assert height > 200 and width > 200, path


def test_run_info_names_configuration_software_and_devices(workdir):
    info = yaml.safe_load((workdir / "results/run_info.yaml").read_text())
    assert info["configuration"]["models"] == MODELS
    assert info["software"]["torch"] != "not installed"
    assert set(info["inference_runs"]) == {f"{model}/fp32" for model in MODELS}
    assert all(run["device"] == "cpu" for run in info["inference_runs"].values())


def test_report_is_one_self_contained_html_file(workdir):
    snakemake(workdir, "--report", "results/report.html")
    html = (workdir / "results/report.html").read_text(encoding="utf-8")
    for shown in ["speed.png", "metrics.csv", "class_mapping_summary.csv", "run_info.yaml"]:
        assert shown in html, shown
    # The tables as pages the report shows, named categories, and an introduction written from
    # the configuration (synthetic images, untrained weights: said first).
    for shown in ["summary.html", "metrics.html", "Speed and memory", "Confusion matrices"]:
        assert shown in html, shown
    assert "This run measures the workflow, not the models" in html
    for model in MODELS:
        assert f"<code>{model}</code>" in html or model in html


def test_nothing_is_written_outside_data_results_and_logs(workdir):
    allowed = {*COPIED, "test-config.yaml", "data", "results", "logs", ".snakemake"}
    assert {path.name for path in Path(workdir).iterdir()} <= allowed
    # The workflow's own folders gain nothing but byte-code caches.
    for name in ["workflow", "config"]:
        for path in (workdir / name).rglob("*"):
            assert (
                "__pycache__" in path.parts
                or path.is_dir()
                or (REPO / name / path.relative_to(workdir / name)).exists()
            ), path


def test_second_run_has_nothing_to_do_and_changes_nothing(workdir):
    before = {p: _digest(p) for p in sorted((workdir / "results").glob("*.csv"))}
    assert planned_jobs(workdir) == {}
    snakemake(workdir)
    assert {p: _digest(p) for p in before} == before


def test_editing_the_mapping_reruns_no_model(workdir):
    mapping_file = workdir / "config/class_mapping.yaml"
    original = mapping_file.read_text()
    # Drop 'warplane' from airplane: the mapping, metrics and plots are stale, the logits not.
    edited = "".join(
        line for line in original.splitlines(keepends=True) if "index: 895," not in line
    )
    assert edited != original, "the mapping file's format changed; update this test"
    mapping_file.write_text(edited)
    try:
        jobs = planned_jobs(workdir)
    finally:
        mapping_file.write_text(original)
    assert "inference" not in jobs
    assert {"class_mapping", "metrics"} <= set(jobs)


def test_adding_a_model_runs_exactly_one_inference_job(workdir):
    models = ",".join([*MODELS, "alexnet"])
    jobs = planned_jobs(workdir, "--config", f"models=[{models}]")
    assert jobs.get("inference") == 1
