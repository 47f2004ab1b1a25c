"""Tests for cifar_zeroshot.analysis.evaluation: reading runs, refusing runs that do not compare."""

import dataclasses
import math

import numpy as np
import pytest
from run_files import (
    GROUPS,
    make_facts,
    make_summary,
    one_hot_logits,
    timing_batches,
    write_run,
    write_three_runs,
)

from cifar_zeroshot.analysis.evaluation import (
    check_paired_facts,
    read_run,
    read_runs,
    score_runs,
)
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.records.logits import LogitsWriter, write_timing

MAX_LOGIT = [ClassMappingMethod(GROUPS, "max_logit")]


@pytest.fixture
def three_runs(tmp_path):
    return tmp_path, write_three_runs(tmp_path)


def test_read_run_sorts_rows_by_image_index(three_runs):
    _, runs = three_runs
    run = read_run(*runs[2])
    assert run.outputs.image_index.tolist() == list(range(30))
    assert run.outputs.labels.tolist() == (np.arange(30) % 10).tolist()
    assert run.outputs.labels.dtype == np.int64
    assert run.outputs.logits.shape == (30, 1000)
    assert np.argmax(run.outputs.logits[10]) == 30  # the flipped answer stays with its image
    assert run.facts == make_facts("resnet", "bf16")
    assert run.summary == make_summary(1)


def test_evaluate_scores_and_agreement(three_runs):
    _, runs = three_runs
    results = score_runs(read_runs(runs), MAX_LOGIT)
    assert [r.run_key for r in results] == [
        ("resnet", "bf16", "class_mapping"),
        ("resnet", "fp32", "class_mapping"),
        ("vit", "fp32", "class_mapping"),
    ]
    bf16, fp32, vit = results
    assert fp32.correct == {1: 30, 5: 30}
    assert bf16.correct[1] == 27
    assert bf16.agreement_with_fp32 == pytest.approx(27 / 30)
    # The reference itself, and a model without its reference run: nothing to agree with.
    assert math.isnan(fp32.agreement_with_fp32) and math.isnan(vit.agreement_with_fp32)
    assert bf16.settings == {"pooling": "max_logit"}
    assert bf16.predicted[10:13].tolist() == [3, 3, 3]


def test_nan_logits_stop_everything_naming_the_file(three_runs):
    folder, runs = three_runs
    labels = np.arange(30) % 10
    logits = one_hot_logits(labels * 10)
    logits[4, 3] = np.nan
    bad = write_run(folder, "broken", "fp32", logits, labels)
    with pytest.raises(UserError, match=r"broken.fp32\.parquet contains NaN"):
        score_runs(read_runs([*runs, bad]), MAX_LOGIT)


def test_mismatched_logits_and_timing_files(three_runs):
    _, runs = three_runs
    with pytest.raises(
        UserError,
        match=r"fp32\.parquet and .*bf16\.parquet come from different runs \(variant is "
        r"'fp32' vs 'bf16'\)",
    ):
        score_runs(read_runs([(runs[0][0], runs[2][1])]), MAX_LOGIT)


def test_paired_facts_compare_every_field(tmp_path):
    facts = make_facts()
    check_paired_facts(tmp_path / "l", tmp_path / "t", facts, facts)
    other = dataclasses.replace(facts, weights="other")
    with pytest.raises(UserError, match="weights is 'resnet_Weights.X' vs 'other'"):
        check_paired_facts(tmp_path / "l", tmp_path / "t", facts, other)
    with pytest.raises(UserError, match="image_count is 30 vs 29"):
        check_paired_facts(
            tmp_path / "l", tmp_path / "t", facts, dataclasses.replace(facts, image_count=29)
        )


def test_bad_variant_name_in_a_run_is_refused(tmp_path):
    facts = make_facts(variant="fp32", image_count=1)
    facts = dataclasses.replace(facts, variant="fp64")
    logits_path, timing_path = tmp_path / "l.parquet", tmp_path / "t.parquet"
    with LogitsWriter(logits_path, facts) as writer:
        writer.write_batch(np.arange(1), np.zeros(1), np.zeros((1, 1000), np.float32))
    write_timing(timing_path, timing_batches(1), facts, make_summary())
    with pytest.raises(UserError, match=r"l\.parquet: Bad variant name 'fp64'"):
        read_run(logits_path, timing_path)


def test_runs_on_different_test_sets_are_refused(three_runs):
    folder, runs = three_runs
    labels = np.arange(20) % 10
    small = write_run(folder, "small", "fp32", one_hot_logits(labels * 10), labels)
    with pytest.raises(UserError, match=r"small.fp32\.parquet .*20 images.*different test sets"):
        read_runs([*runs, small])
    labels = np.arange(30) % 10
    other = write_run(folder, "other", "fp32", one_hot_logits(labels * 10), labels, "cifar10")
    with pytest.raises(UserError, match=r"other.fp32\.parquet \(cifar10"):
        read_runs([*runs, other])


def test_runs_on_other_images_are_refused(three_runs):
    folder, runs = three_runs
    labels = (np.arange(30) + 1) % 10  # same count and dataset, other labels
    shifted = write_run(folder, "shifted", "fp32", one_hot_logits(labels * 10), labels)
    with pytest.raises(UserError, match=r"shifted.fp32\.parquet and .* different images or labels"):
        read_runs([*runs, shifted])


def test_duplicate_run_is_refused(three_runs):
    _, runs = three_runs
    with pytest.raises(UserError, match="both resnet fp32"):
        read_runs([runs[0], runs[0]])


def test_nothing_to_evaluate_is_refused(three_runs):
    _, runs = three_runs
    with pytest.raises(UserError, match="No inference runs to evaluate"):
        score_runs(read_runs([]), MAX_LOGIT)
    with pytest.raises(UserError, match="No scoring methods"):
        score_runs(read_runs(runs), [])


def test_calibration_uses_the_configured_bins(three_runs):
    runs = read_runs(three_runs[1])
    default, five = (score_runs(runs, MAX_LOGIT, bins)[0] for bins in (15, 5))
    assert len(default.reliability.edges) == 16 and len(five.reliability.edges) == 6
    assert five.reliability.images.sum() == default.reliability.images.sum() == 30
    # NLL and Brier do not depend on the bins; the ECE is computed over them.
    assert five.calibration["nll"] == default.calibration["nll"]
    assert five.calibration["brier"] == default.calibration["brier"]
