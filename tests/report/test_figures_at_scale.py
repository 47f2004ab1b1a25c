"""The figures at 8, 50 and 200 runs: no two texts overlap, the legends stay bounded, and only
the runs a figure names (the Pareto front, the best runs) carry labels."""

import numpy as np
import pandas as pd
import pytest
from figure_checks import overlapping_texts
from many_runs import many_metrics, many_runs

from cifar_zeroshot.analysis.robustness import robustness_table
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.report import plots
from cifar_zeroshot.report.balanced_plot import MOST_MODELS, SERIES, per_class_balanced_figure
from cifar_zeroshot.report.complexity_plot import accuracy_vs_gflops_figure
from cifar_zeroshot.report.few_shot import COLOURED, few_shot_figure
from cifar_zeroshot.report.model_families import architecture_family
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
