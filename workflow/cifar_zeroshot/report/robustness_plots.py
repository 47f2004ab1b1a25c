"""The robustness figures, drawn from metrics.csv and robustness.csv.

corruption_severity.png: top-1 against severity, one small panel per selected corruption,
CIFAR-10's accuracy as severity 0: a line per model, variant and method up to seven runs; beyond,
the five of highest mean corrupted top-1 as lines and the others as a median and a band.
effective_robustness.png:
each run's shifted top-1 against its CIFAR-10 top-1 on probit-scaled axes (as Taori et al. and
imagenet-testbed draw it), the y = x line, and per method the probit-space fit across models
where there is one; where there is none the panel says why.
"""

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cifar_zeroshot.analysis.robustness import CHANCE, ProbitFit, fits, probit, shifted_sets
from cifar_zeroshot.core.choices import REFERENCE_TEST_SET
from cifar_zeroshot.data.test_sets import TEST_SETS
from cifar_zeroshot.report.plot_parts import COLOURS
from cifar_zeroshot.report.point_labels import place_labels

_TICKS = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99])
SEVERITIES = np.arange(6)  # 0: the clean images, then CIFAR-10-C's five
# Up to ALL_DRAWN runs are a line each; beyond, the TOP_RUNS best and a band for the rest.
ALL_DRAWN = 7
TOP_RUNS = 5
# tab10 without its grey, which the band of the other runs uses.
RUN_COLOURS = ("C0", "C1", "C2", "C3", "C4", "C5", "C6")
# Effective robustness names, per method, this many runs at each end (every run where fewer).
NAMED_EACH_END = 3


def _title(test_set: str) -> str:
    """A panel's title: the set's, and for a set in blocks that its figure is their mean."""
    entry = TEST_SETS[test_set]
    return f"{entry.title} (mean over blocks)" if entry.blocks else entry.title


def _label(model: str, variant: str, method: str, several_methods: bool) -> str:
    return f"{model} · {variant}" + (f" · {method}" if several_methods else "")


def ranked_runs(shifted: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(model, variant, method) of every run in ``shifted`` (CIFAR-10-C's rows), highest mean
    top-1 over all its corruptions and severities first (ties: the table's order)."""
    keys = ["model", "variant", "method"]
    means = shifted.groupby(keys, sort=False)["top1"].mean()
    order = np.argsort(-means.to_numpy(float), kind="stable")
    return [tuple(means.index[i]) for i in order]


def corruption_severity_figure(metrics: pd.DataFrame, images: str) -> Figure:
    """Top-1 (%) against severity per corruption; CIFAR-10's top-1 at severity 0. Up to
    ``ALL_DRAWN`` runs are a line each; with more, the ``TOP_RUNS`` runs of highest mean
    corrupted top-1 are a line each and the others are their median (dashed) inside the band of
    their middle half (25th to 75th percentile), so the lines stay apart at any number of runs."""
    blocked = [name for name, entry in TEST_SETS.items() if entry.blocks]
    shifted = metrics[metrics["test_set"].isin(blocked)]
    reference = metrics[metrics["test_set"] == REFERENCE_TEST_SET]
    clean = reference.drop_duplicates(["model", "variant", "method"]).set_index(
        ["model", "variant", "method"]
    )["top1"]
    corruptions = list(dict.fromkeys(shifted["corruption"]))
    columns = min(5, max(1, len(corruptions)))
    rows = max(1, -(-len(corruptions) // columns))
    # Wide enough for the legend on the right and the provenance note below.
    figure = Figure(
        figsize=(max(10.0, 3.0 * columns + 3.5), 2.6 * rows + 1.4), layout="constrained"
    )
    axes = np.atleast_1d(figure.subplots(rows, columns, sharex=True, sharey=True)).ravel()
    several = shifted["method"].nunique() > 1
    ranked = ranked_runs(shifted)
    drawn = ranked if len(ranked) <= ALL_DRAWN else ranked[:TOP_RUNS]
    rest = ranked[len(drawn) :]
    by_run = {
        key: rows_of_run
        for key, rows_of_run in shifted.groupby(["model", "variant", "method"], sort=False)
    }
    for ax, corruption in zip(axes, corruptions, strict=False):
        curves = {key: _curve(by_run[key], clean.get(key, np.nan), corruption) for key in ranked}
        for number, key in enumerate(drawn):
            x = np.flatnonzero(np.isfinite(curves[key]))
            ax.plot(
                x,
                curves[key][x],
                marker="o",
                markersize=3,
                color=RUN_COLOURS[number],
                label=_label(*key, several),
                zorder=3,
            )
        if rest:
            others = np.array([curves[key] for key in rest])
            scored = np.isfinite(others).any(axis=0)
            x = np.flatnonzero(scored)
            low, median, high = np.nanpercentile(others[:, scored], [25, 50, 75], axis=0)
            ax.fill_between(
                x,
                low,
                high,
                color="0.75",
                alpha=0.6,
                linewidth=0,
                label=(f"the other {len(rest)} runs: middle half (25th-75th percentile)"),
            )
            ax.plot(x, median, color="0.35", linestyle="--", label="the other runs' median")
        ax.axhline(100 * CHANCE, color="grey", linewidth=0.8, linestyle=":")
        ax.set_title(corruption, fontsize=10)
        ax.set_xlabel("severity", fontsize=8)
        ax.set_xticks(SEVERITIES, ["clean", "1", "2", "3", "4", "5"])
        ax.grid(alpha=0.3)
    for ax in axes[len(corruptions) :]:
        ax.set_visible(False)
    figure.supylabel("top-1 accuracy (%)")
    named = (
        "one line per run"
        if not rest
        else f"lines: the {len(drawn)} runs of highest mean corrupted top-1 of {len(ranked)}"
    )
    figure.suptitle(
        f"CIFAR-10-C: accuracy against corruption severity ({images}); {named}\n"
        "clean: the CIFAR-10 test images themselves; dotted: chance"
    )
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside right center", fontsize=8)
    return figure


def _curve(run: pd.DataFrame, clean: float, corruption: str) -> np.ndarray:
    """One run's top-1 (%) at severities 0 (its CIFAR-10 top-1) to 5; NaN where not scored."""
    curve = np.full(len(SEVERITIES), np.nan)
    curve[0] = 100 * clean
    blocks = run[run["corruption"] == corruption]
    curve[blocks["severity"].astype(int).to_numpy()] = 100 * blocks["top1"].to_numpy(float)
    return curve


def _probit_axes(ax: Axes, low: float, high: float) -> None:
    ticks = _TICKS[(low <= _TICKS) & (high >= _TICKS)]
    for setter in (ax.set_xticks, ax.set_yticks):
        setter(probit(ticks), [f"{100 * t:g}" for t in ticks])
    ax.set_xlim(probit(low), probit(high))
    ax.set_ylim(probit(low), probit(high))


def effective_robustness_figure(robustness: pd.DataFrame, images: str) -> Figure:
    """Shifted top-1 against CIFAR-10 top-1 on probit axes, y = x, and the fits (or why none)."""
    sets = [t for t in shifted_sets() if t in set(robustness["test_set"])]
    figure = Figure(figsize=(5.5 * max(1, len(sets)) + 1.5, 5.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, max(1, len(sets))))
    fitted = fits(robustness)
    methods = list(dict.fromkeys(robustness["method"]))
    accuracies = robustness[["cifar10_top1", "shifted_top1"]].to_numpy(float)
    low = max(0.01, min(0.05, float(np.nanmin(accuracies)) * 0.8)) if len(accuracies) else 0.05
    high = min(0.995, max(0.95, float(np.nanmax(accuracies)) + 0.02)) if len(accuracies) else 0.95
    to_name: dict[Axes, list[tuple[float, float, str]]] = {}
    for ax, test_set in zip(axes, sets, strict=False):
        rows = robustness[robustness["test_set"] == test_set]
        reasons = []
        names: list[tuple[float, float, str]] = []
        for number, method in enumerate(methods):
            ours = rows[rows["method"] == method]
            if ours.empty:
                continue
            colour = COLOURS[number % len(COLOURS)]
            ax.scatter(
                probit(ours["cifar10_top1"].to_numpy(float)),
                probit(ours["shifted_top1"].to_numpy(float)),
                color=colour,
                label=method,
                zorder=3,
            )
            names.extend(_named_points(ours))
            accuracy = ours[["cifar10_top1", "shifted_top1"]].to_numpy(float)
            outside = int(((accuracy < low) | (accuracy > high)).any(axis=1).sum())
            if outside:
                reasons.append(
                    textwrap.fill(f"{method}: {outside} run(s) off the axes (0 % or 100 %)", 55)
                )
            fit = fitted.get((test_set, method))
            if isinstance(fit, ProbitFit):
                x = np.linspace(probit(low), probit(high), 50)
                ax.plot(x, fit.slope * x + fit.intercept, color=colour, linewidth=1.2)
            else:
                reasons.append(textwrap.fill(f"{method}: no fit, {fit}", 55))
        ax.plot(
            [probit(low), probit(high)], [probit(low), probit(high)], color="grey", linestyle="--"
        )
        _probit_axes(ax, low, high)
        ax.set_xlabel("CIFAR-10 top-1 (%, probit scale)")
        ax.set_ylabel(f"{_title(test_set)} top-1 (%, probit scale)")
        ax.set_title(f"{_title(test_set)} against CIFAR-10")
        ax.grid(alpha=0.3)
        if reasons:
            ax.text(
                0.02,
                0.98,
                "\n".join(reasons),
                transform=ax.transAxes,
                va="top",
                fontsize=8,
            )
        ax.legend(loc="lower right", fontsize=8)
        to_name[ax] = names
    many = any(len(names) >= NAMED_EACH_END * 2 + 1 for names in to_name.values())
    figure.suptitle(
        f"Effective robustness ({images}): dashed y = x; lines: fit in probit space across models"
        + (
            f"\nnamed: per method the {NAMED_EACH_END} runs farthest above and below its fit"
            if many
            else ""
        )
    )
    # Last, once every panel's texts are in place, so no name covers them.
    for ax, names in to_name.items():
        if names:
            x, y, labels = zip(*names, strict=True)
            place_labels(ax, list(zip(x, y, strict=True)), list(labels), fontsize=7)
    return figure


def _named_points(ours: pd.DataFrame) -> list[tuple[float, float, str]]:
    """(probit x, probit y, label) of the points of one method worth naming: every point where
    there are few, else the NAMED_EACH_END of highest and of lowest effective robustness
    (without a fit: of shifted top-1). Runs at the same two accuracies share one label."""
    points = (
        ours.assign(
            _rank=ours["effective_robustness"].fillna(ours["shifted_top1"])
            if "effective_robustness" in ours
            else ours["shifted_top1"]
        )
        .groupby(["cifar10_top1", "shifted_top1"], sort=False)
        .agg(models=("model", ", ".join), rank=("_rank", "max"))
        .reset_index()
    )
    if len(points) > 2 * NAMED_EACH_END:
        ordered = points.sort_values("rank", kind="stable")
        points = pd.concat([ordered.head(NAMED_EACH_END), ordered.tail(NAMED_EACH_END)])
    finite = np.isfinite(probit(points["cifar10_top1"].to_numpy(float))) & np.isfinite(
        probit(points["shifted_top1"].to_numpy(float))
    )
    return [
        (float(probit(clean)), float(probit(shifted)), models)
        for clean, shifted, models, shown in zip(
            points["cifar10_top1"], points["shifted_top1"], points["models"], finite, strict=True
        )
        if shown
    ]
