"""results/paired_tests.csv from scored runs: which runs pair, their tables, the summary's words."""

import dataclasses

import numpy as np
import pytest
from run_files import GROUPS, one_hot_logits, write_run, write_three_runs

from cifar_zeroshot.analysis.evaluation import read_run, read_runs, score_runs
from cifar_zeroshot.analysis.metrics_tables import metrics_row
from cifar_zeroshot.analysis.paired_tests import (
    IMAGE_COLUMNS,
    PAIRED_COLUMNS,
    PairedResult,
    images_key,
    paired_result,
    paired_tests,
    paired_tests_of,
)
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.report.paired_section import paired_summary_lines

MAX_LOGIT = [ClassMappingMethod(GROUPS, "max_logit")]


def test_every_pair_on_the_same_images_with_its_table_test_and_correction(tmp_path):
    results = score_runs(read_runs(write_three_runs(tmp_path)), MAX_LOGIT)
    paired = paired_tests(results)
    table = paired.table.set_index(["model_a", "variant_a", "model_b", "variant_b"])
    assert list(paired.table.columns) == list(PAIRED_COLUMNS)
    assert len(table) == 3 and paired.unpaired == []
    # resnet bf16 flips 3 of the 30 answers resnet fp32 gets right.
    variants = table.loc[("resnet", "bf16", "resnet", "fp32")]
    counts = variants[["both_right", "only_a_right", "only_b_right", "both_wrong"]].tolist()
    assert counts == [27, 0, 3, 0]
    assert variants["difference"] == pytest.approx(-0.1)
    assert variants["mcnemar_p"] == 0.25
    # vit is never right: 30 (or 27) discordant images, all one way.
    against_vit = table.loc[("resnet", "fp32", "vit", "fp32")]
    assert against_vit["mcnemar_p"] == pytest.approx(2 / 2**30)
    # Holm: the smallest p times 3, the next times 2, the largest times 1.
    assert against_vit["holm_p"] == pytest.approx(3 * 2 / 2**30)
    assert variants["holm_p"] == 0.25 and not variants["significant"]
    assert table["significant"].tolist().count(True) == 2
    low, high = variants[["difference_ci_low", "difference_ci_high"]]
    assert low < -0.1 < high


def test_runs_on_other_images_are_never_paired_and_the_summary_says_why(tmp_path):
    runs = write_three_runs(tmp_path)
    labels = np.arange(20) % 10
    other = write_run(tmp_path / "other", "vgg", "fp32", one_hot_logits(10 * labels), labels)
    stored = [*read_runs(runs), read_run(*other)]  # read_runs would refuse the mixture
    paired = paired_tests(score_runs(stored, MAX_LOGIT))
    assert len(paired.table) == 3  # only the three runs on the 30 images
    assert "vgg" not in set(paired.table["model_a"]) | set(paired.table["model_b"])
    [reason] = paired.unpaired
    assert reason.startswith("1 result(s) (e.g. vgg fp32 (class_mapping)) were scored on ")
    assert "test_set cifar10, images 20: they are compared only with each other" in reason
    lines = "\n".join(paired_summary_lines(paired.table, paired.unpaired))
    assert "Not compared: 1 result(s) (e.g. vgg fp32 (class_mapping))" in lines


def test_same_dataset_and_count_but_other_images_are_not_paired(tmp_path):
    labels = np.arange(30) % 10
    first = write_run(tmp_path / "a", "resnet", "fp32", one_hot_logits(10 * labels), labels)
    shifted = np.roll(labels, 1)  # the same count and dataset, other labels per image
    second = write_run(tmp_path / "b", "vit", "fp32", one_hot_logits(10 * shifted), shifted)
    paired = paired_tests(score_runs([read_run(*first), read_run(*second)], MAX_LOGIT))
    assert paired.table.empty
    assert "other image indices or labels" in paired.unpaired[0]


def test_the_summary_names_significant_differences_from_the_better_side(tmp_path):
    paired = paired_tests(score_runs(read_runs(write_three_runs(tmp_path)), MAX_LOGIT))
    lines = paired_summary_lines(paired.table, paired.unpaired)
    text = "\n".join(lines)
    assert "**resnet fp32 (class_mapping)** is right more often than **vit fp32" in text
    assert "by 100.0 percentage points" in text
    assert "The other 1 pairs do not differ significantly." in text


def test_the_pairing_key_lists_the_image_columns():
    row = {"dataset": "synthetic", "test_set": "cifar10-c", "corruption": "fog", "severity": 5}
    row |= {"images": 30, "model": "x"}
    assert IMAGE_COLUMNS == ("dataset", "test_set", "corruption", "severity", "images")
    assert images_key(row) == ("synthetic", "cifar10-c", "fog", 5, 30)


def test_the_significance_level_is_the_configured_one(tmp_path):
    results = score_runs(read_runs(write_three_runs(tmp_path)), MAX_LOGIT)
    # Holm p of resnet against vit is 6 / 2**30 (about 5.6e-9): significant at 5 %, not at 1e-9.
    strict = paired_tests(results, 1e-9)
    assert strict.significance == 1e-9
    assert not strict.table["significant"].any()
    assert set(strict.table["significance_level"]) == {1e-9}
    lines = "\n".join(paired_summary_lines(strict.table, strict.unpaired, strict.significance))
    assert "across the 3 pairs at 1e-07 %" in lines
    assert "**No difference is significant after correction.**" in lines
    assert paired_tests(results).table["significant"].tolist().count(True) == 2


def test_other_test_sets_pair_among_themselves_without_a_reason_each(tmp_path):
    results = score_runs(read_runs(write_three_runs(tmp_path)), MAX_LOGIT)
    shifted = [dataclasses.replace(r, test_set="cifar10.1") for r in results]
    paired = paired_tests([*results, *shifted])
    assert len(paired.table) == 6 and paired.unpaired == []
    assert set(paired.table["test_set"]) == {"cifar10", "cifar10.1"}
    lines = "\n".join(paired_summary_lines(paired.table, paired.unpaired))
    assert "Pairs form within each test set (and each CIFAR-10-C corruption and severity)." in lines
    assert "on cifar10.1, **resnet fp32 (class_mapping)** is right more often" in lines


def test_pairs_need_only_each_results_right_images_and_image_columns():
    images = ("synthetic", "cifar10", "", None, 4)
    index, labels = np.arange(4), np.array([0, 1, 2, 3])
    right_a = np.array([True, True, True, False])
    right_b = np.array([True, False, False, False])
    paired = paired_tests_of(
        [
            PairedResult(("a", "fp32", "max_logit"), images, index, labels, right_a),
            PairedResult(("b", "fp32", "max_logit"), images, index, labels, right_b),
        ]
    )
    row = paired.table.iloc[0]
    assert (row["both_right"], row["only_a_right"], row["only_b_right"]) == (1, 2, 0)
    assert (row["top1_a"], row["top1_b"]) == (0.75, 0.25)
    assert tuple(row[list(IMAGE_COLUMNS)]) == ("synthetic", "cifar10", "", None, 4)


def test_a_results_paired_part_is_its_metrics_rows_image_columns(tmp_path):
    result = score_runs(read_runs(write_three_runs(tmp_path)), MAX_LOGIT)[0]
    part = paired_result(result)
    assert part.images == images_key(metrics_row(result))
    assert part.right.tolist() == (result.predicted == result.run.labels).tolist()


def test_many_significant_pairs_are_counted_not_listed(tmp_path):
    paired = paired_tests(score_runs(read_runs(write_three_runs(tmp_path)), MAX_LOGIT))
    lines = paired_summary_lines(paired.table, paired.unpaired, max_sentences=1)
    text = "\n".join(lines)
    assert "is right more often than" not in text
    assert (
        "- On the test sets scored whole, 2 of 3 pairs differ significantly: each is listed in "
        "results/paired_tests.csv, and the leaderboard's letters (results/leaderboard.csv)"
    ) in text
    assert "The other 1 pairs do not differ significantly." in text
    listed = "\n".join(paired_summary_lines(paired.table, paired.unpaired, max_sentences=2))
    assert listed.count("is right more often than") == 2
