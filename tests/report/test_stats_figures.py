"""The statistics figures and the few-shot summary: what they draw and say, read back."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from figure_checks import overlapping_texts
from many_runs import many_metrics, many_paired, many_reliability_bins
from run_files import GROUPS, write_three_runs

from cifar_zeroshot.analysis.evaluation import read_runs, score_runs
from cifar_zeroshot.analysis.few_shot import worth
from cifar_zeroshot.analysis.leaderboard import leaderboard_table
from cifar_zeroshot.analysis.metrics_tables import tables_from_results
from cifar_zeroshot.analysis.paired_tests import paired_tests, read_paired_tests_csv
from cifar_zeroshot.analysis.reliability import reliability_table
from cifar_zeroshot.core.csv_output import write_csv
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.report.few_shot import few_shot_figure, few_shot_summary_lines
from cifar_zeroshot.report.paired_plot import (
    FIGURE_COLUMNS,
    MOST_IN_MATRIX,
    MOST_RANKED,
    paired_differences_figure,
)
from cifar_zeroshot.report.reliability import reliability_figure


@pytest.fixture
def results(tmp_path):
    return score_runs(
        read_runs(write_three_runs(tmp_path)), [ClassMappingMethod(GROUPS, "max_logit")]
    )


def test_paired_matrix_is_antisymmetric_and_stars_significant_cells(results):
    metrics = tables_from_results(results, [f"n{i}" for i in range(1000)]).metrics
    figure = paired_differences_figure(paired_tests(results).table, metrics)
    values = figure.axes[0].images[0].get_array()
    np.testing.assert_allclose(values, -values.T)
    texts = {t.get_text() for t in figure.axes[0].texts}
    assert "+100.0*" in texts and "-100.0*" in texts  # resnet fp32 against vit
    assert "-10.0" in texts  # bf16 against fp32: not significant, no star


def test_paired_matrix_up_to_25_results():
    metrics = many_metrics(20).head(MOST_IN_MATRIX)
    figure = paired_differences_figure(many_paired(metrics), metrics)
    assert figure.axes[0].images[0].get_array().shape == (25, 25)
    assert overlapping_texts(figure) == []
    one_more = many_metrics(20).head(MOST_IN_MATRIX + 1)
    figure = paired_differences_figure(many_paired(one_more), one_more)
    assert len(figure.axes[0].images) == 0
    assert len(figure.axes[0].get_yticklabels()) == MOST_IN_MATRIX + 1


@pytest.mark.parametrize("count", [50, 200])
def test_beyond_25_results_a_ranked_list_marks_what_differs_from_the_best(count):
    metrics = many_metrics(count)
    paired = many_paired(metrics)
    figure = paired_differences_figure(paired, metrics)
    ax = figure.axes[0]
    assert len(ax.images) == 0
    ranked = metrics.sort_values("top1", ascending=False, kind="stable").head(MOST_RANKED)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        f"{m} {v} ({method})" for m, v, method in ranked[["model", "variant", "method"]].values
    ]
    markers = [line for line in ax.lines if line.get_marker() in ("o", "D")]
    assert [m.get_xdata()[0] for m in markers] == pytest.approx(100 * ranked["top1"].to_numpy())
    # Filled: significantly below the best (here: more than 3 points below it).
    best = ranked["top1"].iloc[0]
    for marker, top1 in zip(markers[1:], ranked["top1"].iloc[1:], strict=True):
        filled = marker.get_markerfacecolor() != "white"
        assert filled == (best - top1 > 0.03)
    assert f"ranked; the best {MOST_RANKED} of" in ax.get_title() or len(metrics) <= MOST_RANKED
    assert overlapping_texts(figure) == []


def _drawn_ranking(figure) -> list[tuple[str, str, str]]:
    ax = figure.axes[0]
    markers = [line for line in ax.lines if line.get_marker() in ("o", "D")]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    faces = [(str(m.get_color()), str(m.get_markerfacecolor())) for m in markers]
    return [(label, *face) for label, face in zip(labels, faces, strict=True)]


def test_the_ranked_list_from_the_csv_is_the_one_from_the_metrics_jobs_table(tmp_path):
    """The figure's rule reads FIGURE_COLUMNS of paired_tests.csv, the names as categoricals:
    the same ranking, markers and letters as from the table the metrics job holds."""
    metrics = many_metrics(50)
    paired = many_paired(metrics)
    write_csv(paired, tmp_path / "paired_tests.csv")
    read_back = read_paired_tests_csv(tmp_path / "paired_tests.csv", FIGURE_COLUMNS)
    assert list(read_back.columns) == list(FIGURE_COLUMNS)
    assert isinstance(read_back["model_b"].dtype, pd.CategoricalDtype)
    from_memory = paired_differences_figure(paired, metrics)
    from_file = paired_differences_figure(read_back, metrics)
    assert _drawn_ranking(from_file) == _drawn_ranking(from_memory)
    # Not a vacuous match: some results are significantly below the best and some are not.
    assert {face for _, _, face in _drawn_ranking(from_file)} >= {"C0", "white"}
    assert _letters_column(from_file) == _letters_column(from_memory)


LETTER = r"[a-zA-Z][0-9]*"  # analysis.letters.letter_names: a-z, A-Z, then a1 ...


def _letters_column(figure) -> list[str]:
    return [t.get_text() for t in figure.axes[1].get_yticklabels()]


@pytest.mark.parametrize("count", [50, 200])
def test_the_ranked_list_letters_share_exactly_where_no_significant_difference(count):
    metrics = many_metrics(count)
    figure = paired_differences_figure(many_paired(metrics), metrics)
    letters = _letters_column(figure)
    ranked = metrics.sort_values("top1", ascending=False, kind="stable").head(MOST_RANKED)
    assert len(letters) == len(ranked) and letters[0].startswith("a")
    top1 = ranked["top1"].to_numpy()
    for i in range(len(letters)):
        for j in range(i + 1, len(letters)):
            share = bool(set(re.findall(LETTER, letters[i])) & set(re.findall(LETTER, letters[j])))
            assert share == (abs(top1[i] - top1[j]) <= 0.03), (i, j, letters[i], letters[j])
    assert "letters" in figure.axes[1].get_ylabel()
    assert overlapping_texts(figure) == []


def test_the_ranked_list_of_one_method_has_the_leaderboards_letters():
    metrics = many_metrics(60)
    metrics = metrics[metrics["method"] == "class_mapping"].reset_index(drop=True)
    assert len(metrics) > MOST_IN_MATRIX
    paired = many_paired(metrics).assign(corruption="")
    figure = paired_differences_figure(paired, metrics)
    board = leaderboard_table(metrics, paired)
    assert _letters_column(figure) == list(board["letters"])
    assert "letters, as in leaderboard.csv" in figure.axes[0].get_title()


def test_reliability_table_and_panels(results):
    frame = reliability_table(results)
    assert len(frame) == 3 * 15
    assert frame.groupby(["model", "variant"])["images"].sum().tolist() == [30, 30, 30]
    metrics = tables_from_results(results, [f"n{i}" for i in range(1000)]).metrics
    figure = reliability_figure(frame, metrics)
    curves, spread = figure.axes
    assert curves.get_title() == "class_mapping: lowest ECE in colour"
    assert spread.get_title() == "class_mapping: every run (3)"
    # Three runs: all among the highlighted, named in order of their ECE, lowest first.
    ece = metrics.set_index(["model", "variant"])["ece"].sort_values(kind="stable")
    legend = [t.get_text() for t in curves.get_legend().get_texts()]
    assert legend == [f"{m} · {v}: ECE {e:.3f}" for (m, v), e in ece.items()]
    np.testing.assert_allclose(
        sorted(spread.collections[0].get_offsets()[:, 1]), sorted(ece.to_numpy())
    )


def test_reliability_names_only_the_best_calibrated_runs_per_method():
    metrics = many_metrics(50)
    figure = reliability_figure(many_reliability_bins(metrics), metrics)
    methods = list(dict.fromkeys(metrics["method"]))
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert len(panels) == 2 * len(methods)
    for method, curves in zip(methods, panels[: len(methods)], strict=True):
        ours = metrics[metrics["method"] == method]
        best = ours.sort_values("ece", kind="stable").head(3)
        legend = [t.get_text() for t in curves.get_legend().get_texts()]
        expected = [
            f"{m} · {v}: ECE {e:.3f}" for m, v, e in best[["model", "variant", "ece"]].values
        ]
        others = len(ours) - len(best)
        assert legend == expected + ([f"{others} other run(s)"] if others else [])
        assert len(curves.lines) == 1 + len(ours) + (1 if others else 0)  # diagonal, runs, key
    assert overlapping_texts(figure) == []


def test_reliability_panels_take_cifar10s_ece_beside_shifted_rows(results):
    # With shifted test sets metrics.csv holds a run's rows per set; the bins are CIFAR-10's.
    metrics = tables_from_results(results, [f"n{i}" for i in range(1000)]).metrics
    shifted = metrics.assign(test_set="cifar10.1", ece=0.0)
    both = pd.concat([metrics.assign(test_set="cifar10"), shifted], ignore_index=True)
    figure = reliability_figure(reliability_table(results), both)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    expected = metrics.set_index(["model", "variant"])["ece"].sort_values(kind="stable")
    assert legend == [f"{m} · {v}: ECE {e:.3f}" for (m, v), e in expected.items()]


@pytest.mark.parametrize(
    ("means", "zero", "expected"),
    [
        ([0.2, 0.4, 0.6], 0.3, "about 1.4"),  # halfway from 1 to 2 in log k: sqrt(2)
        ([0.2, 0.4, 0.6], 0.5, "about 2.8"),  # halfway from 2 to 4: sqrt(8)
        ([0.2, 0.4, 0.6], 0.4, "about 2.0"),
        ([0.2, 0.4, 0.6], 0.1, "fewer than 1"),
        ([0.2, 0.4, 0.6], 0.7, "more than 4 (the largest k)"),
    ],
)
def test_worth_interpolates_in_log_k(means, zero, expected):
    assert worth([1, 2, 4], means, zero) == expected


def test_worth_with_a_smallest_k_above_one():
    assert worth([4, 8], [0.5, 0.6], 0.3) == "at most 4"


def _few_shot_frame():
    rows = []
    for k, tops in ((1, (0.1, 0.2)), (4, (0.4, 0.6))):
        for draw, top in enumerate(tops):
            rows.append({"model": "alexnet", "variant": "fp32", "k": k, "draw": draw})
            rows[-1]["test_top1"] = top
    return pd.DataFrame(rows)


def test_few_shot_summary_and_figure():
    metrics = pd.DataFrame(
        [{"model": "alexnet", "variant": "fp32", "method": "class_mapping", "top1": 0.325}]
    )
    lines = few_shot_summary_lines(_few_shot_frame(), metrics)
    # Means 0.15 at k=1 and 0.5 at k=4: 0.325 is halfway, so k = 2 in log k.
    assert lines[-1] == (
        "- alexnet fp32: zero-shot (32.5 % top-1) is worth about 2.0 labelled images per class."
    )
    figure = few_shot_figure(_few_shot_frame(), metrics)
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    mean_line = ax.get_lines()[0]
    np.testing.assert_allclose(mean_line.get_ydata(), [15.0, 50.0])
    zero_line = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_ydata()[0] for line in zero_line] == [pytest.approx(32.5)]
    assert not math.isnan(ax.get_ylim()[1])


def test_few_shot_summary_names_runs_without_zero_shot_and_one_image():
    # No class-mapping row (a probe-only head): said, not skipped. A probe on one image per
    # class that already beats zero-shot: "fewer than 1 labelled image".
    metrics = pd.DataFrame(
        [{"model": "alexnet", "variant": "fp32", "method": "linear_probe", "top1": 0.7}]
    )
    assert few_shot_summary_lines(_few_shot_frame(), metrics)[-1] == (
        "- alexnet fp32: no zero-shot score to compare (probe only)."
    )
    metrics = pd.DataFrame(
        [{"model": "alexnet", "variant": "fp32", "method": "class_mapping", "top1": 0.05}]
    )
    assert few_shot_summary_lines(_few_shot_frame(), metrics)[-1].endswith(
        "is worth fewer than 1 labelled image per class."
    )
