"""A collection of 22 small untrained models, named by two patterns, through the whole workflow.

`timm:test_*` (timm's 13 test models) and every torchvision classifier of at most 4 M published
parameters, untrained and offline, on a few synthetic images: the collections expand at planning
into checked model names, every model runs, and the leaderboard ranks them all with significance
letters that agree with results/paired_tests.csv. The figures drawn from the run's own tables
keep their texts apart.
"""

import itertools
import re

import pandas as pd
import pytest
import yaml
from figure_checks import overlapping_texts
from workflow_runner import TEST_CONFIG, copy_workflow, planned_jobs, snakemake

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv, reference_rows
from cifar_zeroshot.report.paired_plot import paired_differences_figure
from cifar_zeroshot.report.plots import accuracy_vs_speed_figure

pytestmark = pytest.mark.e2e

COLLECTIONS = ["timm:test_*", {"collection": "torchvision:all", "max_params_m": 4}]
CONFIG = {
    **TEST_CONFIG,
    "models": COLLECTIONS,
    "synthetic_images_per_class": 2,
    "batch_size": 20,
}


@pytest.fixture(scope="module")
def collection_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("collection"), CONFIG)
    dry_run = snakemake(workdir, "--dry-run")
    jobs = planned_jobs(workdir)
    snakemake(workdir)
    return workdir, dry_run.stdout + dry_run.stderr, jobs


def _letters(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]\d*", text))


def test_the_collections_expand_into_at_least_twenty_models_each_run_once(collection_run):
    workdir, dry_run, jobs = collection_run
    assert "collection timm:test_*" in dry_run and "collection torchvision:all" in dry_run
    run_info = yaml.safe_load((workdir / "results/run_info.yaml").read_text())
    expanded = [model for models in run_info["model_collections"].values() for model in models]
    assert len(expanded) >= 20 and len(set(expanded)) == len(expanded)
    assert jobs["inference"] == len(expanded)
    metrics = read_metrics_csv(workdir / "results/metrics.csv")
    assert metrics["model"].nunique() == len(expanded)


def test_the_leaderboard_letters_agree_with_the_paired_tests(collection_run):
    workdir, _, _ = collection_run
    board = pd.read_csv(workdir / "results/leaderboard.csv", dtype={"letters": str})
    paired = pd.read_csv(workdir / "results/paired_tests.csv", dtype=str)
    significant = {
        (row.model_a, row.variant_a, row.model_b, row.variant_b, row.method_a)
        for row in paired.itertuples()
        if row.test_set == "cifar10" and row.method_a == row.method_b and row.significant == "True"
    }
    cifar10 = board[board["test_set"] == "cifar10"]
    assert cifar10.groupby("method").size().min() >= 20
    checked = 0
    for method, ranking in cifar10.groupby("method"):
        assert ranking["top1"].is_monotonic_decreasing
        assert ranking["letters"].notna().all()
        rows = list(ranking.itertuples())
        for a, b in itertools.combinations(rows, 2):
            differ = (a.model, a.variant, b.model, b.variant, method) in significant or (
                b.model,
                b.variant,
                a.model,
                a.variant,
                method,
            ) in significant
            share = bool(_letters(a.letters) & _letters(b.letters))
            assert share != differ, (method, a.model, b.model, a.letters, b.letters)
            checked += 1
    assert checked >= 190  # 20 results make 190 pairs


def test_the_figures_of_the_collection_keep_their_texts_apart(collection_run):
    workdir, _, _ = collection_run
    metrics = reference_rows(read_metrics_csv(workdir / "results/metrics.csv"))
    paired = pd.read_csv(
        workdir / "results/paired_tests.csv", dtype={"variant_a": str, "variant_b": str}
    )
    for figure in (accuracy_vs_speed_figure(metrics), paired_differences_figure(paired, metrics)):
        assert overlapping_texts(figure) == []
    for name in ("accuracy_vs_speed", "paired_differences", "reliability", "imagenet_vs_transfer"):
        assert (workdir / f"results/plots/{name}.png").stat().st_size > 10_000
