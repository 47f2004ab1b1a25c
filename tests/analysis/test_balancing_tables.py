"""Tests for the balanced rows of the metrics tables and their own tables (balancing.csv,
per_class_poolings.csv) on a small synthetic run."""

import dataclasses

import numpy as np
import pytest
from run_files import GROUPS, NAMES, write_three_runs

from cifar_zeroshot.analysis.balancing_tables import (
    OFFSET_COLUMNS,
    balancing_table,
    per_class_pooling_table,
)
from cifar_zeroshot.analysis.evaluation import read_runs, score_runs
from cifar_zeroshot.analysis.metrics_tables import tables_from_results
from cifar_zeroshot.analysis.paired_tests import paired_tests
from cifar_zeroshot.analysis.reliability import reliability_table
from cifar_zeroshot.analysis.test_set_results import methods_for_test_set
from cifar_zeroshot.data.test_sets import TEST_SETS
from cifar_zeroshot.methods.interface import MethodInputs
from cifar_zeroshot.methods.registry import configured_methods

BALANCED = ("class_mapping+balanced", "class_mapping+balanced_all")


@pytest.fixture
def results(tmp_path):
    methods = configured_methods(MethodInputs(GROUPS, "max_logit"))
    return score_runs(read_runs(write_three_runs(tmp_path)), methods)


def test_every_row_has_its_per_class_figures(results):
    metrics = tables_from_results(results, NAMES).metrics
    assert set(metrics["method"]) == {"class_mapping", *BALANCED}
    row = metrics.set_index(["model", "variant", "method"]).loc
    # bf16 sends one image each of airplane, automobile and bird to cat (3 images per class).
    bf16 = row[("resnet", "bf16", "class_mapping")]
    assert bf16["balanced_accuracy"] == pytest.approx((3 * 2 / 3 + 7) / 10)
    assert bf16["worst_class_recall"] == pytest.approx(2 / 3)
    assert bf16["worst_class"] == "airplane"  # the lower class of the tie
    vit = row[("vit", "fp32", "class_mapping")]  # always the next class
    assert (vit["balanced_accuracy"], vit["worst_class_recall"]) == (0.0, 0.0)
    # Equal classes: balanced accuracy is the top-1 on every row.
    np.testing.assert_allclose(metrics["balanced_accuracy"], metrics["top1"])
    # The balanced top-1 per pooling is a balanced row's figure; the configured pooling's is
    # its top-1.
    mapping = metrics[metrics["method"] == "class_mapping"]
    assert mapping["top1_max_logit_balanced"].isna().all()
    balanced = metrics[metrics["method"].isin(BALANCED)]
    np.testing.assert_allclose(balanced["top1_max_logit_balanced"], balanced["top1"])
    assert balanced[["top1_mean_prob_balanced", "top1_sum_prob_balanced"]].notna().all().all()
    assert balanced["pooling"].eq("max_logit").all()


def test_balanced_rows_flow_through_paired_tests_and_calibration(results):
    paired = paired_tests(results).table
    sides = set(paired["method_a"]) | set(paired["method_b"])
    assert set(BALANCED) <= sides
    reliability = reliability_table(results)
    assert set(BALANCED) <= set(reliability["method"])


def test_the_offsets_are_kept_per_fit(results):
    table = balancing_table(results)
    # Per run: cross-fitted, two halves for each of three poolings; all images, one each.
    counts = table.groupby(["method", "fit"]).size().to_dict()
    assert counts == {
        ("class_mapping+balanced", "cross_fitted"): 18,
        ("class_mapping+balanced_all", "all"): 9,
    }
    assert set(table["scores"]) == {"max_logit", "mean_prob", "sum_prob"}
    halves = table[table["fit"] == "cross_fitted"]
    assert set(zip(halves["fitted_on"], halves["applied_to"], strict=True)) == {
        ("even positions", "odd positions"),
        ("odd positions", "even positions"),
    }
    assert (halves["fitted_images"] == 15).all()
    np.testing.assert_allclose(table[list(OFFSET_COLUMNS)].sum(axis=1), 0, atol=1e-9)
    assert table["converged"].all() and (table["max_marginal_error"] < 1e-8).all()


def test_per_class_recall_under_each_pooling(results):
    table = per_class_pooling_table(results)
    assert len(table) == 3 * len(("class_mapping", *BALANCED)) * 3 * 10
    per_class = tables_from_results(results, NAMES).per_class
    ours = table[(table["method"] == "class_mapping") & (table["pooling"] == "max_logit")]
    merged = ours.merge(per_class, on=["model", "variant", "method", "cifar_class"])
    assert len(merged) == 30
    np.testing.assert_allclose(merged["recall"], merged["accuracy"])


def test_a_set_without_an_equal_prior_gets_no_balanced_methods(monkeypatch):
    entry = TEST_SETS["cifar10.1"]
    monkeypatch.setitem(TEST_SETS, "cifar10.1", dataclasses.replace(entry, equal_class_prior=False))
    inputs = MethodInputs(GROUPS, "max_logit")
    assert [m.name for m in methods_for_test_set(inputs, "cifar10.1", [])] == ["class_mapping"]
    names = [m.name for m in methods_for_test_set(inputs, "cifar10", [])]
    assert names == ["class_mapping", *BALANCED]
