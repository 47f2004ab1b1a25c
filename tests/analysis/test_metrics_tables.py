"""Tests for cifar_zeroshot.analysis.metrics_tables: the metrics CSVs built from stored runs."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from run_files import GROUPS, NAMES, FirstMemberMethod, one_hot_logits, write_run, write_three_runs

from cifar_zeroshot.analysis import metrics_tables as t
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.methods.scoring import wilson_interval
from cifar_zeroshot.records.logits import read_timing, write_timing

# The columns of metrics.csv before the method axis, which must keep their names and order.
OLD_METRICS_COLUMNS = [
    "model",
    "variant",
    "weights",
    "dataset",
    "device",
    "device_name",
    "images",
    "pooling",
    "top1",
    "top1_ci_low",
    "top1_ci_high",
    "top5",
    "top5_ci_low",
    "top5_ci_high",
    "top1_max_logit",
    "top1_mean_prob",
    "top1_sum_prob",
    "top5_max_logit",
    "top5_mean_prob",
    "top5_sum_prob",
    "unrestricted_top1",
    "unrestricted_top1_ci_low",
    "unrestricted_top1_ci_high",
    "outside_mapped_share",
    "agreement_with_fp32",
    "ece",
    "nll",
    "brier",
    "images_per_second",
    "end_to_end_images_per_second",
    "ms_per_image",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "batch_size",
    "model_load_seconds",
    "compile_seconds",
    "torch_peak_allocated_mb",
    "torch_peak_reserved_mb",
    "nvml_process_mb",
    "host_peak_rss_mb",
]


def _methods(pooling="max_logit"):
    return [ClassMappingMethod(GROUPS, pooling)]


@pytest.fixture
def runs(tmp_path):
    return write_three_runs(tmp_path)


def test_metrics_columns_are_the_old_ones_plus_method_probe_clip_and_energy():
    settings_end = OLD_METRICS_COLUMNS.index("pooling") + 1
    dataset_end = OLD_METRICS_COLUMNS.index("dataset") + 1
    figures_end = OLD_METRICS_COLUMNS.index("outside_mapped_share") + 1
    energy = OLD_METRICS_COLUMNS.index("compile_seconds") + 1
    accuracy_end = OLD_METRICS_COLUMNS.index("top5_ci_high") + 1
    assert list(t.METRICS_COLUMNS) == [
        *OLD_METRICS_COLUMNS[:2],
        "method",
        *OLD_METRICS_COLUMNS[2:dataset_end],
        "test_set",
        "corruption",
        "severity",
        *OLD_METRICS_COLUMNS[dataset_end:settings_end],
        "probe_regularisation",
        "prompt_templates",
        *OLD_METRICS_COLUMNS[settings_end:accuracy_end],
        "balanced_accuracy",
        "worst_class_recall",
        "worst_class",
        *OLD_METRICS_COLUMNS[accuracy_end:figures_end],
        "probe_validation_top1",
        "probe_train_images",
        "probe_fit_seconds",
        "probe_train_images_per_second",
        "probe_train_host_peak_rss_mb",
        "probe_train_torch_peak_allocated_mb",
        "top1_max_logit_balanced",
        "top1_mean_prob_balanced",
        "top1_sum_prob_balanced",
        *OLD_METRICS_COLUMNS[figures_end:energy],
        "gpu_energy_joules",
        "images_per_joule",
        *OLD_METRICS_COLUMNS[energy:],
        "parameters",
        "gflops_per_image",
        "test_set_title",
        "weights_title",
    ]
    # Every per-run table says which images (test set, corruption, severity) a row describes.
    scope_and_run = ("test_set", "corruption", "severity", "model", "variant", "method")
    assert t.PER_CLASS_COLUMNS[:6] == scope_and_run
    assert t.CONFUSION_COLUMNS[:6] == scope_and_run
    assert t.TOP_CONFUSION_COLUMNS[:5] == scope_and_run[:5]
    assert "method" not in t.TOP_CONFUSION_COLUMNS


def test_build_tables_rows_columns_and_values(runs):
    tables = t.build_tables(runs, _methods(), NAMES)
    metrics = tables.metrics
    assert list(metrics.columns) == list(t.METRICS_COLUMNS)
    assert list(zip(metrics["model"], metrics["variant"], strict=True)) == [
        ("resnet", "bf16"),
        ("resnet", "fp32"),
        ("vit", "fp32"),
    ]
    assert set(metrics["method"]) == {"class_mapping"}
    row = metrics.set_index(["model", "variant"]).loc
    assert row[("resnet", "fp32"), "top1"] == 1.0
    assert row[("resnet", "fp32"), "unrestricted_top1"] == pytest.approx(20 / 30)
    assert row[("resnet", "fp32"), "outside_mapped_share"] == pytest.approx(10 / 30)
    assert row[("resnet", "bf16"), "top1"] == pytest.approx(27 / 30)
    assert row[("resnet", "bf16"), "agreement_with_fp32"] == pytest.approx(27 / 30)
    assert math.isnan(row[("resnet", "fp32"), "agreement_with_fp32"])
    assert math.isnan(row[("vit", "fp32"), "agreement_with_fp32"])
    assert row[("vit", "fp32"), "top1"] == 0.0
    # Ties among the other nine classes rank the lower ones first: labels 0-3 make the top 5.
    assert row[("vit", "fp32"), "top5_max_logit"] == pytest.approx(0.4)
    low, high = wilson_interval(27, 30)
    assert row[("resnet", "bf16"), "top1_ci_low"] == pytest.approx(low)
    assert row[("resnet", "bf16"), "top1_ci_high"] == pytest.approx(high)
    assert row[("vit", "fp32"), "images_per_second"] == 300.0
    assert row[("vit", "fp32"), "host_peak_rss_mb"] == 512.0
    assert row[("vit", "fp32"), "parameters"] == 1_000_000  # from the run facts
    assert row[("vit", "fp32"), "gflops_per_image"] == 0.5
    assert math.isnan(row[("vit", "fp32"), "torch_peak_allocated_mb"])
    assert set(metrics["device_name"]) == {"Test CPU"} and set(metrics["images"]) == {30}

    per_class = tables.per_class
    assert len(per_class) == 30 and list(per_class.columns) == list(t.PER_CLASS_COLUMNS)
    cat = per_class[(per_class["model"] == "resnet") & (per_class["variant"] == "bf16")]
    by_class = cat.set_index("cifar_class")
    assert by_class.loc["bird", "correct"] == 2 and by_class.loc["cat", "images"] == 3
    assert by_class.loc["airplane", "accuracy"] == pytest.approx(2 / 3)

    confusion = tables.confusion
    assert len(confusion) == 300 and confusion["count"].sum() == 90
    assert list(confusion.columns) == list(t.CONFUSION_COLUMNS)
    bf16 = confusion[(confusion["model"] == "resnet") & (confusion["variant"] == "bf16")]
    cell = bf16.set_index(["true_class", "predicted_class"])["count"]
    assert cell[("airplane", "cat")] == 1 and cell[("cat", "cat")] == 3

    top = tables.top_confusions
    assert list(top.columns) == list(t.TOP_CONFUSION_COLUMNS)
    first = top[(top["model"] == "resnet") & (top["variant"] == "fp32")]
    airplane = first[first["cifar_class"] == "airplane"]
    assert airplane["imagenet_index"].tolist() == [0, 500]  # 2 x in0, 1 x in500; count order
    assert airplane["imagenet_name"].tolist() == ["in0", "in500"]
    assert airplane["share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert airplane["rank"].tolist() == [1, 2]


def test_other_poolings_fill_their_own_columns(runs):
    metrics = t.build_tables(runs, _methods("sum_prob"), NAMES).metrics
    assert (metrics["pooling"] == "sum_prob").all()
    np.testing.assert_array_equal(metrics["top1"], metrics["top1_sum_prob"])
    np.testing.assert_array_equal(metrics["top5"], metrics["top5_sum_prob"])


def test_imagenet_names_as_a_mapping_fill_the_gaps(runs):
    top = t.build_tables(runs, _methods(), {0: "plane"}).top_confusions
    resnet = top[(top["model"] == "resnet") & (top["variant"] == "fp32")]
    airplane = resnet[resnet["cifar_class"] == "airplane"]
    assert set(airplane["imagenet_name"]) == {"plane", "imagenet_500"}
    with pytest.raises(ValueError, match="need 1000 ImageNet names, got 3"):
        t.build_tables(runs, _methods(), ["a", "b", "c"])


def test_csvs_are_byte_identical_on_rewrite(runs, tmp_path):
    names = ("metrics", "per_class", "confusion", "top_confusions")
    contents = []
    for attempt, order in enumerate((runs, runs[::-1])):
        paths = [tmp_path / f"out{attempt}" / f"{name}.csv" for name in names]
        t.build_tables(order, _methods(), NAMES).write(*paths)
        contents.append([p.read_bytes() for p in paths])
    assert contents[0] == contents[1]
    assert not list((tmp_path / "out0").glob(".*tmp"))
    text = contents[0][0].decode()
    assert text.splitlines()[0].startswith("model,variant,method,weights,dataset")
    assert "Test CPU" in text


def test_every_method_gets_its_rows_and_leaves_others_columns_empty(runs, tmp_path):
    tables = t.build_tables(runs, [*_methods(), FirstMemberMethod()], NAMES)
    metrics = tables.metrics
    assert list(zip(metrics["model"], metrics["variant"], metrics["method"], strict=True)) == [
        ("resnet", "bf16", "class_mapping"),
        ("resnet", "bf16", "first_member"),
        ("resnet", "fp32", "class_mapping"),
        ("resnet", "fp32", "first_member"),
        ("vit", "fp32", "class_mapping"),  # the method does not apply to vit: no row
    ]
    row = metrics.set_index(["model", "variant", "method"]).loc
    # Only the first member scores: the first 10 images (an unmapped winner) go to class 0.
    assert row[("resnet", "fp32", "first_member"), "top1"] == pytest.approx(21 / 30)
    assert row[("resnet", "fp32", "class_mapping"), "top1"] == 1.0
    assert row[("resnet", "bf16", "first_member"), "agreement_with_fp32"] == pytest.approx(27 / 30)
    for column in ("pooling", "top1_max_logit", "unrestricted_top1", "outside_mapped_share"):
        assert metrics.loc[metrics["method"] == "first_member", column].isna().all(), column
    # Timing belongs to the run: the same for both methods.
    for method in ("class_mapping", "first_member"):
        assert row[("resnet", "bf16", method), "images_per_second"] == 200.0
    assert len(tables.per_class) == 50 and len(tables.confusion) == 500
    assert tables.confusion.groupby("method")["count"].sum().tolist() == [90, 60]
    assert len(tables.top_confusions) == len(t.build_tables(runs, _methods(), NAMES).top_confusions)

    path = tmp_path / "metrics.csv"
    tables.write(path, tmp_path / "p.csv", tmp_path / "c.csv", tmp_path / "tc.csv")
    cells = pd.read_csv(path, keep_default_na=False).set_index("method").loc["first_member"]
    assert (cells["pooling"] == "").all() and (cells["top1_max_logit"] == "").all()


def test_energy_columns_are_empty_without_a_figure_and_per_timed_image_with_one(runs):
    timing_path = runs[0][1]
    timing = read_timing(timing_path)
    gpu_summary = dataclasses.replace(timing.summary, gpu_energy_joules=3.0)
    write_timing(timing_path, timing.batches, timing.facts, gpu_summary)
    metrics = t.build_tables(runs, _methods(), NAMES).metrics.set_index(["model", "variant"])
    measured = metrics.loc[(timing.facts.model, timing.facts.variant)]
    assert measured["gpu_energy_joules"] == 3.0
    assert measured["images_per_joule"] == pytest.approx(gpu_summary.timed_images / 3.0)
    others = metrics.drop(index=(timing.facts.model, timing.facts.variant))
    assert others["gpu_energy_joules"].isna().all() and others["images_per_joule"].isna().all()


def test_metrics_csv_reads_back_with_settings_as_text(tmp_path):
    frame = pd.DataFrame(
        [
            {
                "model": "clip-RN50.openai",
                "variant": "fp32",
                "method": "prompt_similarity",
                "prompt_templates": "18",
                "top1": 0.5,
            },
            {
                "model": "alexnet",
                "variant": "fp32",
                "method": "class_mapping",
                "pooling": "max_logit",
                "top1": 0.25,
            },
        ]
    )
    path = tmp_path / "metrics.csv"
    frame.to_csv(path, index=False)
    read = t.read_metrics_csv(path)
    assert read.loc[0, "prompt_templates"] == "18"  # not 18.0
    assert pd.isna(read.loc[1, "prompt_templates"]) and read.loc[1, "top1"] == 0.25


def test_parameters_are_written_whole_and_empty_where_not_counted(tmp_path):
    """25,557,032 as a float cell would be written 2.5557e+07 (the CSV's %.6g)."""
    labels = np.arange(30) % 10
    logits = one_hot_logits(10 * labels)
    runs = [
        write_run(tmp_path, "resnet", "fp32", logits, labels, parameters=25_557_032),
        write_run(tmp_path, "vit", "fp32", logits, labels, parameters=None, gflops_per_image=None),
    ]
    tables = t.build_tables(runs, _methods(), NAMES)
    tables.write(*(tmp_path / f"{name}.csv" for name in ("m", "p", "c", "t")))
    written = t.read_metrics_csv(tmp_path / "m.csv")
    assert written["parameters"].tolist()[0] == 25_557_032
    assert written[["parameters", "gflops_per_image"]].iloc[1].isna().all()  # empty cells
    assert ",25557032,0.5,,\n" in (tmp_path / "m.csv").read_text()  # no titles given here
