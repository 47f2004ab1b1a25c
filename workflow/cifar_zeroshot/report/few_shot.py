"""The few-shot probes against zero-shot: results/plots/few_shot.png and the summary's sentence.

Per probed run, the few-shot probes' test top-1 (results/few_shot/{model}/{variant}.csv, one row
per k and draw) against k, and the run's zero-shot top-1 (class mapping) from metrics.csv. What
zero-shot is worth in labels: the k at which the mean over draws first reaches the zero-shot
top-1, interpolated linearly in log k between the two ks around it; "fewer than 1" when the
probe on one image per class already matches it, "more than" the largest k when no k does.
"""

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.analysis.few_shot import curve, worth, zero_shot_top1
from cifar_zeroshot.report.plot_parts import COLOURS

# Runs drawn in colour, with their bands, draws and zero-shot lines; the others thin and grey.
COLOURED = len(COLOURS)


def few_shot_summary_lines(few_shot: pd.DataFrame, metrics: pd.DataFrame) -> list[str]:
    lines = ["## Few-shot linear probes against zero-shot", ""]
    if few_shot.empty:
        return [*lines, "No run was probed, so no few-shot probe was fitted."]
    draws = int(few_shot["draw"].nunique())
    lines.append(
        f"The linear probe fitted on k training images per class ({draws} random draws per k, "
        "results/few_shot/); the k at which its mean test top-1 first reaches the run's "
        "zero-shot (class mapping) top-1, interpolated in log k:"
    )
    lines.append("")
    runs = few_shot[["model", "variant"]].drop_duplicates()
    for model, variant in zip(runs["model"], runs["variant"], strict=True):
        stats = curve(few_shot, model, variant)
        zero = zero_shot_top1(metrics, model, variant)
        if math.isnan(zero):
            # A head that is not ImageNet-1k's: the class mapping cannot score it.
            lines.append(f"- {model} {variant}: no zero-shot score to compare (probe only).")
            continue
        words = worth(list(stats.index), list(stats["mean"]), zero)
        noun = "labelled image" if words == "fewer than 1" else "labelled images"
        lines.append(
            f"- {model} {variant}: zero-shot ({100 * zero:.1f} % top-1) is worth {words} "
            f"{noun} per class."
        )
    return lines


def _ranked_runs(few_shot: pd.DataFrame) -> list[tuple[str, str]]:
    """(model, variant) of every probed run, the highest mean top-1 at its largest k first."""
    runs = list(dict.fromkeys(zip(few_shot["model"], few_shot["variant"], strict=True)))
    best = [float(curve(few_shot, m, v)["mean"].iloc[-1]) for m, v in runs]
    order = np.argsort(-np.array(best), kind="stable")
    return [runs[i] for i in order]


def few_shot_figure(few_shot: pd.DataFrame, metrics: pd.DataFrame) -> Figure:
    """Mean top-1 over draws against k (log scale), the draws' range shaded, every draw a dot,
    and each run's zero-shot top-1 as a dashed line of its colour, for the COLOURED runs of
    highest top-1 at the largest k; any other run is a thin grey line of its means alone, so
    the figure stays readable at any number of runs."""
    figure = Figure(figsize=(10.5, 6), layout="constrained")
    ax = figure.subplots()
    ranked = _ranked_runs(few_shot)
    shots: set[int] = set()
    for model, variant in ranked[COLOURED:]:
        stats = curve(few_shot, model, variant)
        shots |= set(stats.index.tolist())
        ax.plot(stats.index.to_numpy(float), 100 * stats["mean"], color="0.65", linewidth=0.7)
    if len(ranked) > COLOURED:
        others = len(ranked) - COLOURED
        ax.plot([], [], color="0.65", linewidth=0.7, label=f"{others} other run(s): mean")
    for n, (model, variant) in enumerate(ranked[:COLOURED]):
        colour = COLOURS[n % len(COLOURS)]
        stats = curve(few_shot, model, variant)
        k = stats.index.to_numpy(float)
        shots |= set(stats.index.tolist())
        ax.plot(k, 100 * stats["mean"], marker="o", color=colour, label=f"{model} {variant}")
        ax.fill_between(k, 100 * stats["min"], 100 * stats["max"], color=colour, alpha=0.2)
        rows = few_shot[(few_shot["model"] == model) & (few_shot["variant"] == variant)]
        ax.scatter(rows["k"], 100 * rows["test_top1"], s=8, color=colour, alpha=0.5)
        zero = zero_shot_top1(metrics, model, variant)
        if not math.isnan(zero):
            # In the legend, not beside the line: equal zero-shot lines (untrained models at
            # chance) would write their names over each other.
            label = f"zero-shot {model} {variant}: {100 * zero:.1f} %"
            ax.axhline(100 * zero, color=colour, linestyle="--", linewidth=1.2, label=label)
    ax.set_xscale("log")
    ticks = sorted(shots)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("labelled training images per class (k, log scale)")
    ax.set_ylabel("test top-1 (%)")
    ax.grid(alpha=0.3)
    heading = "few-shot probe (line: mean; band: range over draws)"
    if len(ranked) > COLOURED:
        heading += f"\nin colour: the {COLOURED} best at k = {max(shots)}"
    figure.legend(loc="outside right upper", fontsize=8, title=heading, title_fontsize=8)
    ax.set_title("Few-shot linear probes; dashed: the same model's zero-shot top-1")
    if np.isfinite(ax.get_ylim()).all():
        ax.set_ylim(bottom=0)
    return figure
