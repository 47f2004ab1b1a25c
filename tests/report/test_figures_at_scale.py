"""The figures at 8, 50 and 200 runs: no two texts overlap, the legends stay bounded, only the
runs a figure names (the Pareto front, the best runs) carry labels, and the bar figures draw at
most MOST_ROWS rows, the best by their own measure, saying so."""

import numpy as np
import pandas as pd
import pytest
from figure_checks import overlapping_texts, texts_outside
from many_runs import many_metrics, many_runs

from cifar_zeroshot.analysis.robustness import robustness_table
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.models.architecture_family import architecture_family
from cifar_zeroshot.report import plots
from cifar_zeroshot.report.balanced_plot import MOST_MODELS, SERIES, per_class_balanced_figure
from cifar_zeroshot.report.complexity_plot import accuracy_vs_gflops_figure
from cifar_zeroshot.report.few_shot import COLOURED, few_shot_figure
from cifar_zeroshot.report.plot_parts import (
    MOST_ROWS,
    best_rows,
    method_places,
    row_labels,
    run_labels,
    save_figure,
)
from cifar_zeroshot.report.probe_plot import probe_vs_zero_shot_figure
from cifar_zeroshot.report.robustness_plots import NAMED_EACH_END, effective_robustness_figure


def _scatter_labels(ax) -> list[str]:
    return sorted(text.get_text() for text in ax.texts if "left out" not in text.get_text())


@pytest.mark.parametrize(
    ("draw", "column", "higher_is_better"),
    [
        (plots.accuracy_vs_speed_figure, "images_per_second", True),
        (accuracy_vs_gflops_figure, "gflops_per_image", False),
    ],
)
def test_scatter_at_50_runs_names_exactly_each_methods_front(draw, column, higher_is_better):
    metrics = many_metrics(50)
    figure = draw(metrics)
    ax = figure.axes[0]
    assert len(ax.collections) == len(metrics)
    expected = []
    for _, rows in metrics.groupby("method"):
        x, y = rows[column].to_numpy(), rows["top1"].to_numpy()
        for i, (model, variant) in enumerate(zip(rows["model"], rows["variant"], strict=True)):
            better = (y >= y[i]) & ((x >= x[i]) if higher_is_better else (x <= x[i]))
            if not (better & ((y > y[i]) | (x != x[i]))).any():
                expected.append(f"{model} · {variant}")
    assert _scatter_labels(ax) == sorted(expected)
    assert 3 <= len(expected) < 40
    assert overlapping_texts(figure) == []


@pytest.mark.parametrize("count", [8, 200])
def test_scatter_legend_stays_bounded_and_texts_apart(count):
    metrics = many_metrics(count)
    figure = plots.accuracy_vs_speed_figure(metrics)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    families = legend[1 : legend.index("variant")]
    assert len(families) <= 10
    named = {architecture_family(m) for m in metrics["model"]}
    assert set(families) - {"other"} <= named
    assert ("other" in families) == (len(named) > 10)
    assert overlapping_texts(figure) == []


@pytest.mark.parametrize("draw", [plots.accuracy_vs_speed_figure, accuracy_vs_gflops_figure])
def test_scatter_labels_move_with_the_provenance_note(draw, tmp_path):
    figure = draw(many_metrics(200))
    named = _scatter_labels(figure.axes[0])
    # The note (above or under the figure) shrinks the axes the labels were placed in.
    save_figure(figure, tmp_path / "scatter.png", "1,000 synthetic images; untrained weights")
    assert _scatter_labels(figure.axes[0]) == named
    assert overlapping_texts(figure) == []
    assert texts_outside(figure) == []


def test_scatter_colours_one_family_alike():
    metrics = many_metrics(50)
    ax = plots.accuracy_vs_speed_figure(metrics).axes[0]
    edges = [tuple(np.round(c.get_edgecolor()[0], 3)) for c in ax.collections]
    by_family: dict[str, set] = {}
    for model, edge in zip(metrics["model"], edges, strict=True):
        by_family.setdefault(architecture_family(model), set()).add(edge)
    assert all(len(colours) == 1 for colours in by_family.values())


def test_effective_robustness_at_50_runs_names_the_ends_of_each_method():
    metrics = many_metrics(50, corruptions=True)
    shifted = metrics[metrics["test_set"] == "cifar10-c"].assign(corruption="", severity=None)
    mean = shifted.groupby(["model", "variant", "method"], sort=False, as_index=False).agg(
        {column: "first" for column in metrics.columns if column not in ("top1",)}
        | {"top1": "mean"}
    )
    table = robustness_table(pd.concat([metrics[metrics["test_set"] == "cifar10"], mean]))
    figure = effective_robustness_figure(table, "CIFAR-10")
    (ax,) = figure.axes
    assert ax.texts[0].get_text().startswith("clip_prompts: no fit")  # four CLIP runs
    named = [t.get_text() for t in ax.texts][1:]
    expected = []
    for _, rows in table.groupby("method", sort=False):
        ranked = rows["effective_robustness"].fillna(rows["shifted_top1"]).sort_values()
        if len(rows) > 2 * NAMED_EACH_END:  # else every run is named
            ranked = pd.concat([ranked.iloc[:NAMED_EACH_END], ranked.iloc[-NAMED_EACH_END:]])
        expected += list(rows.loc[ranked.index, "model"])
    assert sorted(named) == sorted(expected)
    assert overlapping_texts(figure) == []


@pytest.mark.parametrize("count", [8, 50])
def test_the_bar_figures_keep_their_texts_apart(count):
    metrics = many_metrics(count).assign(host_peak_rss_mb=2900.0, torch_peak_allocated_mb=800.0)
    for figure in (plots.speed_figure(metrics), plots.memory_figure(metrics)):
        assert overlapping_texts(figure) == []


@pytest.mark.parametrize("count", [8, 50])
def test_few_shot_colours_the_best_four_and_greys_the_rest(count):
    rng = np.random.default_rng(count)
    runs = many_runs(count)
    few_shot = pd.DataFrame(
        [
            {"model": m, "variant": v, "k": k, "draw": d, "test_top1": rng.uniform(0.1, 0.9)}
            for m, v in runs
            for k in (1, 2, 4, 8, 16)
            for d in range(3)
        ]
    )
    metrics = many_metrics(count)
    figure = few_shot_figure(few_shot, metrics)
    at_16 = few_shot[few_shot["k"] == 16].groupby(["model", "variant"], sort=False)["test_top1"]
    best = at_16.mean().sort_values(ascending=False, kind="stable").index[:COLOURED]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    coloured = [t for t in legend if not t.startswith(("zero-shot", f"{len(runs) - 4} other"))]
    assert coloured == [f"{m} {v}" for m, v in best]
    assert f"{len(runs) - COLOURED} other run(s): mean" in legend
    assert overlapping_texts(figure) == []


def test_per_class_balanced_draws_the_twelve_models_of_highest_pooled_recall():
    rng = np.random.default_rng(5)
    models = [f"resnet{i}" for i in range(50)]
    level = dict(zip(models, rng.uniform(0.2, 0.8, len(models)), strict=True))
    rows = [
        {
            "model": model,
            "variant": "fp32",
            "method": method,
            "pooling": pooling,
            "cifar_class": name,
            "recall": level[model] + (0.05 if method != "class_mapping" else 0.0),
        }
        for model in models
        for method in SERIES
        for pooling in ("max_logit", "mean_prob")
        for name in CIFAR10_CLASSES
    ]
    figure = per_class_balanced_figure(pd.DataFrame(rows), "CIFAR-10")
    panels = [ax for ax in figure.axes if ax.get_title()]
    best = sorted(models, key=lambda m: -level[m])[:MOST_MODELS]
    drawn = list(dict.fromkeys(ax.get_title().split(" · ")[0] for ax in panels))
    assert drawn == [m for m in models if m in best]
    assert f"the {MOST_MODELS} of 50 models" in figure.get_suptitle()
    assert overlapping_texts(figure) == []


# The tallest a capped bar figure grows (inches): MOST_ROWS rows and their titles.
TALLEST = 15.5


def _measured(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(count)
    metrics = many_metrics(count)
    return metrics.assign(
        top5=np.minimum(metrics["top1"] + 0.1, 0.99),
        top5_ci_low=lambda f: f["top5"] - 0.01,
        top5_ci_high=lambda f: f["top5"] + 0.01,
        host_peak_rss_mb=rng.uniform(500, 4000, len(metrics)),
        torch_peak_allocated_mb=rng.uniform(100, 3000, len(metrics)),
        torch_peak_reserved_mb=rng.uniform(100, 3000, len(metrics)),
        nvml_process_mb=rng.uniform(600, 5000, len(metrics)),
    )


def _per_class(metrics: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    keys = metrics[["model", "variant", "method"]].itertuples(index=False)
    return pd.DataFrame(
        [
            {"model": m, "variant": v, "method": method, "cifar_class": name, "accuracy": value}
            for m, v, method in keys
            for name, value in zip(CIFAR10_CLASSES, rng.uniform(0.1, 1, 10), strict=True)
        ]
    )


def _drawn(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def _each_methods_best(drawn: list[str], rows: pd.DataFrame, score: pd.Series) -> None:
    """Every method's drawn rows are its best by ``score``, best first, and a method with fewer
    rows than an even share has them all."""
    labels = pd.Series(row_labels(rows), index=rows.index)
    methods = rows["method"].unique()
    for method in methods:
        mine = score[rows["method"] == method].sort_values(ascending=False, kind="stable")
        shown = [label for label in drawn if label in set(labels[mine.index])]
        assert shown == list(labels[mine.index[: len(shown)]])
        assert len(shown) >= min(len(mine), MOST_ROWS // len(methods))


def test_method_places_share_evenly_and_pass_on_what_a_small_method_leaves():
    assert method_places([5, 45, 45], 30) == [5, 12, 13]
    assert method_places([100, 100], 30) == [15, 15]
    assert method_places([3, 2], 30) == [3, 2]
    assert sum(method_places([7, 40, 1, 90], 30)) == 30


def test_best_rows_ranks_by_position_with_missing_scores_last():
    frame = pd.DataFrame({"name": list("abcde"), "method": "m"}, index=[7, 7, 3, 3, 1])
    score = np.array([2.0, np.nan, 5.0, 1.0, 3.0])
    shown, note = best_rows(frame, score, "runs by speed", "speed.csv", most=3)
    assert list(shown["name"]) == ["c", "e", "a"]
    assert note == "best 3 of 5 runs by speed; all in speed.csv"
    least, _ = best_rows(frame, score, "runs by memory", "x.csv", most=4, higher_is_better=False)
    assert list(least["name"]) == ["d", "a", "e", "c"]  # the missing score stays out
    assert best_rows(frame, score, "runs", "x.csv", most=5) == (frame, None)


def _check_capped(figure, title: str, drawn: int, every: int, source: str) -> None:
    assert figure.get_size_inches()[1] <= TALLEST
    assert f"best {drawn} of {every} " in title
    assert f"all in {source}" in title
    assert overlapping_texts(figure) == []
    assert texts_outside(figure) == []


@pytest.mark.parametrize("count", [50, 200])
def test_accuracy_and_per_class_draw_each_methods_best_thirty(count):
    metrics = _measured(count)
    figure = plots.accuracy_figure(metrics)
    (ax,) = figure.axes
    drawn = _drawn(ax)
    assert len(drawn) == MOST_ROWS
    _each_methods_best(drawn, metrics, metrics["top1"])
    _check_capped(figure, ax.get_title(), 30, len(metrics), "results/leaderboard.csv")
    per_class = _per_class(metrics)
    figure = plots.per_class_figure(per_class)
    ax = figure.axes[0]
    means = per_class.groupby(["model", "variant", "method"], sort=False)["accuracy"].mean()
    drawn = _drawn(ax)
    assert len(drawn) == MOST_ROWS
    _each_methods_best(drawn, metrics, pd.Series(means.to_numpy(), index=metrics.index))
    _check_capped(figure, figure.get_suptitle(), 30, len(metrics), "results/per_class.csv")


@pytest.mark.parametrize("count", [50, 200])
def test_speed_memory_and_probe_draw_the_best_runs(count):
    metrics = _measured(count)
    runs = metrics.drop_duplicates(["model", "variant"])
    figure = plots.speed_figure(metrics)
    fastest = runs.sort_values("images_per_second", ascending=False, kind="stable")
    assert _drawn(figure.axes[0]) == run_labels(fastest.head(MOST_ROWS))
    _check_capped(figure, figure.get_suptitle(), 30, len(runs), "results/metrics.csv")
    figure = plots.memory_figure(metrics)
    (ax,) = figure.axes
    # NVML's figure is the leaderboard's peak memory wherever it was measured; four series: 15.
    least = runs.sort_values("nvml_process_mb", kind="stable").head(2 * MOST_ROWS // 4)
    assert _drawn(ax) == run_labels(least)
    _check_capped(figure, ax.get_title(), 15, len(runs), "results/metrics.csv")
    figure = probe_vs_zero_shot_figure(metrics)
    (ax,) = figure.axes
    probes = metrics[metrics["method"] == "linear_probe"]
    best = probes.sort_values("top1", ascending=False, kind="stable").head(MOST_ROWS // 2)
    assert _drawn(ax) == run_labels(best)
    _check_capped(figure, ax.get_title(), 15, len(probes), "results/leaderboard.csv")


def test_below_the_cap_the_bar_figures_draw_every_row_in_the_tables_order():
    metrics = _measured(8)
    assert len(metrics) <= MOST_ROWS
    runs = metrics.drop_duplicates(["model", "variant"])
    accuracy, per_class = (
        plots.accuracy_figure(metrics),
        plots.per_class_figure(_per_class(metrics)),
    )
    speed, memory = plots.speed_figure(metrics), plots.memory_figure(metrics)
    assert _drawn(accuracy.axes[0]) == row_labels(metrics)
    assert _drawn(per_class.axes[0]) == row_labels(metrics)
    assert _drawn(speed.axes[0]) == run_labels(runs)
    assert _drawn(memory.axes[0]) == run_labels(runs)
    titles = [accuracy.axes[0].get_title(), speed.get_suptitle(), memory.axes[0].get_title()]
    assert not any("best" in title for title in titles)
    assert per_class.get_suptitle() == ""
    for figure in (accuracy, per_class, speed, memory):
        assert overlapping_texts(figure) == []


@pytest.mark.parametrize("families", [len(plots.FAMILY_COLOURS), len(plots.FAMILY_COLOURS) + 1])
def test_scatter_colours_as_many_families_as_its_palette_and_one_more(families):
    # With one family more than the palette's named colours, bounded_groups keeps every family
    # named (no "other" of one), which once asked the palette for a colour it does not have.
    metrics = many_metrics(2 * families)
    words = (
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
    )
    names = {m: f"{words[n % families]}net" for n, m in enumerate(metrics["model"].unique())}
    metrics["model"] = metrics["model"].map(names)
    figure = plots.accuracy_vs_speed_figure(metrics)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    named = legend[1 : legend.index("variant")]
    assert len(named) == min(families, len(plots.FAMILY_COLOURS))
    assert len(set(named) - {"other"}) <= len(plots.FAMILY_COLOURS)
