"""Tests for analysis.robustness (drops, effective robustness), report.robustness_plots and
analysis.test_set_results' row selection, on small metrics tables."""

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from figure_checks import overlapping_texts
from many_runs import many_metrics

from cifar_zeroshot.analysis.metrics_tables import METRICS_COLUMNS, read_metrics_csv, reference_rows
from cifar_zeroshot.analysis.robustness import difference_interval, robustness_table
from cifar_zeroshot.core.csv_output import write_csv
from cifar_zeroshot.report.provenance import provenance_note
from cifar_zeroshot.report.robustness_plots import (
    corruption_severity_figure,
    effective_robustness_figure,
)
from cifar_zeroshot.report.robustness_section import robustness_section_lines
from cifar_zeroshot.report.summary import summary_markdown, write_summary_markdown

# model -> (CIFAR-10 top-1, CIFAR-10.1 top-1, CIFAR-10-C top-1 per (corruption, severity))
RUNS = {
    "alexnet": (0.40, 0.33, {("fog", 1): 0.35, ("fog", 3): 0.25, ("snow", 1): 0.30}),
    "resnet50": (0.70, 0.62, {("fog", 1): 0.66, ("fog", 3): 0.50, ("snow", 1): 0.55}),
    "vgg16": (0.55, 0.50, {("fog", 1): 0.50, ("fog", 3): 0.37, ("snow", 1): 0.45}),
    "vit_b_16": (0.85, 0.80, {("fog", 1): 0.82, ("fog", 3): 0.74, ("snow", 1): 0.79}),
}


def _row(model, test_set, top1, corruption="", severity=None, images=2000):
    return {
        "model": model,
        "variant": "fp32",
        "method": "class_mapping",
        "weights": "DEFAULT",
        "dataset": "cifar10",
        "test_set": test_set,
        "corruption": corruption,
        "severity": severity,
        "images": images,
        "top1": top1,
        "top1_ci_low": top1 - 0.02,
        "top1_ci_high": top1 + 0.02,
    }


def _metrics(runs=RUNS, tmp_path=None):
    rows = []
    for model, (clean, one, blocks) in runs.items():
        rows += [_row(model, "cifar10", clean, images=10_000), _row(model, "cifar10.1", one)]
        rows += [_row(model, "cifar10-c", a, c, s, 10_000) for (c, s), a in blocks.items()]
    frame = pd.DataFrame(rows, columns=list(METRICS_COLUMNS))
    if tmp_path is None:
        return frame
    write_csv(frame, tmp_path / "metrics.csv")  # as the metrics job writes it
    return read_metrics_csv(tmp_path / "metrics.csv")


def test_effective_robustness_recomputed_from_metrics_csv_by_its_definition(tmp_path):
    metrics = _metrics(tmp_path=tmp_path)
    table = robustness_table(metrics)
    assert len(table) == 2 * len(RUNS)
    probit, cdf = NormalDist().inv_cdf, NormalDist().cdf
    # By hand: CIFAR-10.1 top-1 against CIFAR-10 top-1 of the four models, a least-squares line
    # in probit space; vgg16's effective robustness is its distance above that line, in points.
    clean = metrics[metrics["test_set"] == "cifar10"].set_index("model")["top1"]
    one = metrics[metrics["test_set"] == "cifar10.1"].set_index("model")["top1"]
    x = np.array([probit(clean[m]) for m in RUNS])
    y = np.array([probit(one[m]) for m in RUNS])
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    intercept = y.mean() - slope * x.mean()
    expected = 100 * (one["vgg16"] - cdf(slope * probit(clean["vgg16"]) + intercept))
    row = table[(table["model"] == "vgg16") & (table["test_set"] == "cifar10.1")].iloc[0]
    assert row["effective_robustness"] == pytest.approx(expected, abs=1e-9)
    assert (row["fit_slope"], row["fit_intercept"]) == pytest.approx((slope, intercept))
    assert row["drop"] == pytest.approx(0.05) and row["no_fit_reason"] == ""
    # CIFAR-10-C: the mean over the selected blocks, and its drop.
    c_row = table[(table["model"] == "resnet50") & (table["test_set"] == "cifar10-c")].iloc[0]
    assert c_row["shifted_top1"] == pytest.approx(np.mean([0.66, 0.50, 0.55]))
    assert c_row["drop"] == pytest.approx(0.70 - np.mean([0.66, 0.50, 0.55]))


def test_a_run_that_scores_the_same_on_both_sets_drops_by_exactly_zero():
    blocks = {
        (corruption, severity): 0.7 for corruption in ("fog", "snow") for severity in (1, 3, 5)
    }
    table = robustness_table(_metrics({"alexnet": (0.7, 0.7, blocks)}))
    assert table["drop"].tolist() == [0.0, 0.0]
    assert table["shifted_top1"].tolist() == [0.7, 0.7]


def test_no_fit_with_fewer_than_three_models_or_at_chance_and_it_says_why():
    two = robustness_table(_metrics({m: RUNS[m] for m in ("alexnet", "vgg16")}))
    assert two["effective_robustness"].isna().all() and two["fit_slope"].isna().all()
    assert set(two["no_fit_reason"]) == {"2 model(s): a fit across models needs at least 3"}
    chance = {m: (0.1, 0.1, {("fog", 1): 0.1}) for m in ("a", "b", "c")}
    at_chance = robustness_table(_metrics(chance))
    assert at_chance["no_fit_reason"].str.startswith("only 0 model(s) score above chance").all()
    figure = effective_robustness_figure(two, "CIFAR-10")
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert any("no fit, 2 model(s)" in text for text in texts)
    assert all(len(ax.lines) == 1 for ax in figure.axes)  # y = x only, no fit line
    assert overlapping_texts(figure) == []


def test_the_fit_line_is_drawn_per_method_once_there_are_three_models():
    table = robustness_table(_metrics())
    figure = effective_robustness_figure(table, "CIFAR-10")
    assert len(figure.axes) == 2
    assert all(len(ax.lines) == 2 for ax in figure.axes)  # y = x and the fit
    assert all(len(ax.collections[0].get_offsets()) == len(RUNS) for ax in figure.axes)


def test_corruption_severity_has_a_panel_per_corruption_and_a_line_per_run():
    figure = corruption_severity_figure(_metrics(), "CIFAR-10")
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["fog", "snow"]
    fog = {line.get_label(): line for line in panels[0].lines[: len(RUNS)]}
    assert len(fog) == len(RUNS)
    # Highest mean corrupted top-1 first: vit_b_16, resnet50, vgg16, alexnet.
    assert list(fog) == ["vit_b_16 · fp32", "resnet50 · fp32", "vgg16 · fp32", "alexnet · fp32"]
    # alexnet: clean 40 %, then severities 1 and 3.
    assert list(fog["alexnet · fp32"].get_xdata()) == [0, 1, 3]
    assert list(fog["alexnet · fp32"].get_ydata()) == pytest.approx([40.0, 35.0, 25.0])
    assert len(panels[0].collections) == 0  # four runs: no band


@pytest.mark.parametrize("count", [8, 50, 200])
def test_corruption_severity_beyond_seven_runs_draws_the_best_five_and_a_band(count):
    metrics = many_metrics(count, corruptions=True)
    figure = corruption_severity_figure(metrics, "CIFAR-10")
    shifted = metrics[metrics["test_set"] == "cifar10-c"]
    means = shifted.groupby(["model", "variant", "method"], sort=False)["top1"].mean()
    best = means.sort_values(ascending=False, kind="stable").index[:5]
    fog = figure.axes[0]
    labels = [line.get_label() for line in fog.lines]
    assert labels[:5] == [f"{m} · {v} · {method}" for m, v, method in best]
    assert labels[5] == "the other runs' median"
    # Five colours, none repeated, and one band for the other runs.
    assert len({line.get_color() for line in fog.lines[:5]}) == 5
    (band,) = fog.collections
    assert (
        band.get_label() == f"the other {len(means) - 5} runs: middle half (25th-75th percentile)"
    )
    # The median at severity 3 is the median of the other runs' fog accuracy there.
    others = means.index.difference(best)
    at_three = shifted[(shifted["corruption"] == "fog") & (shifted["severity"] == 3)]
    expected = 100 * at_three.set_index(["model", "variant", "method"]).loc[others, "top1"].median()
    assert fog.lines[5].get_ydata()[3] == pytest.approx(expected)
    assert overlapping_texts(figure) == []


def test_difference_interval_contains_the_drop_and_widens_with_either_interval():
    low, high = difference_interval((0.5, 0.45, 0.55), (0.7, 0.68, 0.72))
    assert low < 0.2 < high
    wider = difference_interval((0.5, 0.40, 0.60), (0.7, 0.68, 0.72))
    assert wider[0] < low and wider[1] > high


ROBUSTNESS_TAIL = (
    "\n"
    "## Robustness to distribution shift\n"
    "\n"
    "**synthetic images, not CIFAR-10. These figures check the workflow, not the "
    "models.**\n"
    "\n"
    "Top-1 in percent with 95% intervals; drop = CIFAR-10 minus the shifted set, in "
    "points. CIFAR-10-C: the mean over the selected corruptions and severities. "
    "Effective robustness: points above the probit-space fit across models "
    "(results/robustness.csv; docs/robustness.md).\n"
    "\n"
    "| model | variant | method | test set | CIFAR-10 | shifted | drop | eff. "
    "robustness |\n"
    "|---|---|---|---|---|---|---|---|\n"
    "| alexnet | fp32 | class_mapping | cifar10.1 | 40.0 [38.0, 42.0] | 33.0 [31.0, "
    "35.1] | 7.0 [4.1, 9.8] | -0.8 |\n"
    "| resnet50 | fp32 | class_mapping | cifar10.1 | 70.0 [68.0, 72.0] | 62.0 [59.9, "
    "64.1] | 8.0 [5.1, 10.9] | -1.2 |\n"
    "| vgg16 | fp32 | class_mapping | cifar10.1 | 55.0 [53.0, 57.0] | 50.0 [47.8, "
    "52.2] | 5.0 [2.0, 8.0] | +2.0 |\n"
    "| vit_b_16 | fp32 | class_mapping | cifar10.1 | 85.0 [83.0, 87.0] | 80.0 [78.2, "
    "81.7] | 5.0 [2.4, 7.7] | +0.1 |\n"
    "| alexnet | fp32 | class_mapping | cifar10-c | 40.0 [38.0, 42.0] | 30.0 [29.1, "
    "30.9] | 10.0 [7.8, 12.2] | +0.6 |\n"
    "| resnet50 | fp32 | class_mapping | cifar10-c | 70.0 [68.0, 72.0] | 57.0 [56.0, "
    "58.0] | 13.0 [10.8, 15.2] | -2.4 |\n"
    "| vgg16 | fp32 | class_mapping | cifar10-c | 55.0 [53.0, 57.0] | 44.0 [43.0, "
    "45.0] | 11.0 [8.8, 13.2] | +0.4 |\n"
    "| vit_b_16 | fp32 | class_mapping | cifar10-c | 85.0 [83.0, 87.0] | 78.3 [77.5, "
    "79.1] | 6.7 [4.5, 8.8] | +1.0 |\n"
)


def test_the_summary_ends_with_the_robustness_table_only_with_shifted_sets(tmp_path):
    metrics = _metrics()
    metrics["dataset"] = "synthetic"  # a note in the summary and in the robustness section
    reference = reference_rows(metrics)
    sections = [["## Paired comparisons", "", "a line"]]
    robustness = robustness_section_lines(robustness_table(metrics), provenance_note(metrics))
    path = tmp_path / "summary.md"
    write_summary_markdown(reference, path, sections, [robustness])
    # The summary, its note, then the robustness section (ROBUSTNESS_TAIL: as summary.md had
    # it when the section was appended to the written file).
    assert path.read_text(encoding="utf-8") == summary_markdown(reference, sections) + (
        ROBUSTNESS_TAIL
    )
    assert "**Note: synthetic images" in summary_markdown(reference, sections)
    cifar10_only = metrics[metrics["test_set"] == "cifar10"]
    assert robustness_section_lines(robustness_table(cifar10_only), "note") == []
    write_summary_markdown(reference, path, sections, [[]])
    assert path.read_text(encoding="utf-8") == summary_markdown(reference, sections)


def test_reference_rows_are_cifar10s_and_old_tables_pass_unchanged():
    metrics = _metrics()
    assert set(reference_rows(metrics)["test_set"]) == {"cifar10"}
    assert len(reference_rows(metrics)) == len(RUNS)
    old = metrics.drop(columns=["test_set", "corruption", "severity"])
    assert reference_rows(old) is old


def test_runs_on_one_point_share_a_label_and_runs_off_the_axes_are_named():
    # alexnet and vgg16 at the same two accuracies (as untrained models at chance are); a probe
    # at 100 % lies off the probit axes.
    same = {"alexnet": RUNS["alexnet"], "vgg16": RUNS["alexnet"], "perfect": (1.0, 1.0, {})}
    figure = effective_robustness_figure(robustness_table(_metrics(same)), "CIFAR-10")
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert "alexnet, vgg16" in texts and "alexnet" not in texts
    words = [" ".join(text.split()) for text in texts]  # the reasons are wrapped
    assert any("class_mapping: 1 run(s) off the axes (0 % or 100 %)" in w for w in words)
    assert overlapping_texts(figure) == []
