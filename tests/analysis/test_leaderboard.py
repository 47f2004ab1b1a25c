"""results/leaderboard.csv: rankings per test set and method, their letters from the paired
tests, CIFAR-10-C's mean over blocks, and the columns copied from metrics.csv."""

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from run_files import GROUPS, NAMES, write_three_runs

from cifar_zeroshot.analysis.evaluation import read_runs, score_runs
from cifar_zeroshot.analysis.leaderboard import (
    LEADERBOARD_COLUMNS,
    leaderboard_table,
    peak_memory,
    significance_matrix,
)
from cifar_zeroshot.analysis.letters import compact_letters
from cifar_zeroshot.analysis.metrics_tables import build_tables, tables_from_results
from cifar_zeroshot.analysis.paired_tests import PairedResult, paired_tests, paired_tests_of
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod

MAX_LOGIT = [ClassMappingMethod(GROUPS, "max_logit")]


def test_a_ranking_of_the_three_runs_with_letters_from_their_pairs(tmp_path):
    results = score_runs(read_runs(write_three_runs(tmp_path)), MAX_LOGIT)
    metrics = tables_from_results(results, NAMES).metrics
    paired = paired_tests(results)
    board = leaderboard_table(metrics, paired.table, {"resnet": 0.761, "vit": None})
    assert list(board.columns) == list(LEADERBOARD_COLUMNS)
    assert board[["rank", "model", "variant"]].values.tolist() == [
        [1, "resnet", "fp32"],
        [2, "resnet", "bf16"],
        [3, "vit", "fp32"],
    ]
    assert board["top1"].tolist() == pytest.approx([1.0, 0.9, 0.0])
    # resnet fp32 and bf16 do not differ (p = 0.25); both differ from vit (Holm p < 1e-8).
    assert board["letters"].tolist() == ["a", "a", "b"]
    assert board["published_imagenet_top1"].tolist()[0] == 0.761
    assert np.isnan(board["published_imagenet_top1"].tolist()[2])
    assert set(board["peak_memory_source"]) == {"host RSS"}
    assert board["blocks"].tolist() == [0, 0, 0]
    assert board["parameters"].tolist() == [1_000_000] * 3
    assert board["family"].tolist() == ["resnet", "resnet", "vit"]


def test_letters_are_the_paired_tables_significance(tmp_path):
    """Random results on one set of images: results sharing a letter are exactly the pairs the
    paired tests' table does not call significant."""
    rng = np.random.default_rng(3)
    images = ("synthetic", "cifar10", "", "", 400)
    index, labels = np.arange(400), rng.integers(0, 10, 400)
    accuracies = rng.uniform(0.2, 0.9, 9)
    results = [
        PairedResult((f"m{n}", "fp32", "class_mapping"), images, index, labels, rng.random(400) < p)
        for n, p in enumerate(accuracies)
    ]
    paired = paired_tests_of(results).table
    metrics = pd.DataFrame(
        {
            "model": [f"m{n}" for n in range(9)],
            "variant": "fp32",
            "method": "class_mapping",
            "test_set": "cifar10",
            "corruption": "",
            "severity": "",
            "images": 400,
            "top1": [float(r.right.mean()) for r in results],
            "top1_ci_low": 0.0,
            "top1_ci_high": 1.0,
            "balanced_accuracy": np.nan,
        }
    )
    board = leaderboard_table(metrics, paired)
    assert board["top1"].is_monotonic_decreasing
    assert "a" in board["letters"].iloc[0]
    letters = dict(zip(board["model"], board["letters"].map(set), strict=True))
    significant = {
        frozenset((a, b)): bool(s)
        for a, b, s in paired[["model_a", "model_b", "significant"]].itertuples(index=False)
    }
    assert 0 < sum(significant.values()) < len(significant)  # both kinds occur
    for first, second in itertools.combinations(letters, 2):
        shares = bool(letters[first] & letters[second])
        assert shares != significant[frozenset((first, second))]


def test_each_result_names_its_architecture_family_from_its_models_name(tmp_path):
    results = score_runs(read_runs(write_three_runs(tmp_path)), MAX_LOGIT)
    metrics = tables_from_results(results, NAMES).metrics
    names = {"resnet": "timm-resnet50.a1_in1k", "vit": "clip-ViT-B-32.openai"}
    metrics["model"] = metrics["model"].map(names)
    board = leaderboard_table(metrics, pd.DataFrame())
    assert board[["model", "family"]].values.tolist() == [
        ["timm-resnet50.a1_in1k", "resnet"],
        ["timm-resnet50.a1_in1k", "resnet"],
        ["clip-ViT-B-32.openai", "clip"],
    ]


def test_cifar10_c_ranks_the_mean_over_blocks_without_letters(tmp_path):
    results = score_runs(read_runs(write_three_runs(tmp_path)), MAX_LOGIT)
    blocks = [
        dataclasses.replace(r, test_set="cifar10-c", corruption=c, severity=s)
        for r in results
        for c, s in (("fog", 1), ("fog", 5))
    ]
    every = [*results, *blocks]
    metrics = tables_from_results(every, NAMES).metrics
    board = leaderboard_table(metrics, paired_tests(every).table)
    shifted = board[board["test_set"] == "cifar10-c"]
    assert len(shifted) == 3 and shifted["blocks"].tolist() == [2, 2, 2]
    assert shifted["model"].tolist() == ["resnet", "resnet", "vit"]
    assert shifted["family"].tolist() == ["resnet", "resnet", "vit"]
    assert shifted["top1"].tolist() == pytest.approx([1.0, 0.9, 0.0])
    assert shifted["letters"].tolist() == ["", "", ""]
    # The interval counts one block's images (30), as the robustness table's does.
    clean = board[board["test_set"] == "cifar10"]
    assert shifted["top1_ci_low"].tolist() == pytest.approx(clean["top1_ci_low"].tolist())


def test_equal_top1_shares_a_rank_and_keeps_metrics_order(tmp_path):
    metrics = build_tables(write_three_runs(tmp_path), MAX_LOGIT, NAMES).metrics
    metrics.loc[:, "top1"] = 0.5
    board = leaderboard_table(metrics, pd.DataFrame())
    assert board["rank"].tolist() == [1, 1, 1]
    assert board["model"].tolist() == metrics["model"].tolist()
    assert board["letters"].tolist() == ["a", "a", "a"]  # no pair tested: none shown to differ


def test_the_significance_matrix_ignores_pairs_outside_the_ranking():
    ranked = pd.DataFrame({"model": ["x", "y"], "variant": ["fp32", "fp32"]})
    pairs = pd.DataFrame(
        {
            "model_a": ["x", "x"],
            "variant_a": ["fp32", "fp32"],
            "model_b": ["y", "z"],
            "variant_b": ["fp32", "fp32"],
            "significant": [True, True],
        }
    )
    matrix = significance_matrix(ranked, pairs)
    assert matrix.tolist() == [[False, True], [True, False]]
    assert compact_letters(matrix) == ["a", "b"]


def test_peak_memory_prefers_the_gpus_figure():
    assert peak_memory({"host_peak_rss_mb": 900.0, "torch_peak_reserved_mb": 300.0}) == (
        300.0,
        "GPU, torch reserved",
    )
    assert peak_memory({"host_peak_rss_mb": 900.0, "nvml_process_mb": np.nan}) == (
        900.0,
        "host RSS",
    )
    assert peak_memory({}) is None


def test_no_metrics_no_rows():
    board = leaderboard_table(pd.DataFrame(), pd.DataFrame())
    assert board.empty and list(board.columns) == list(LEADERBOARD_COLUMNS)


def test_a_result_without_top1_ranks_last(tmp_path):
    metrics = build_tables(write_three_runs(tmp_path), MAX_LOGIT, NAMES).metrics
    metrics.loc[(metrics["model"] == "resnet") & (metrics["variant"] == "fp32"), "top1"] = np.nan
    board = leaderboard_table(metrics, pd.DataFrame())
    assert board["rank"].tolist() == [1, 2, 3]
    assert board[["model", "variant"]].values.tolist()[-1] == ["resnet", "fp32"]
