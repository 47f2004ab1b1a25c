"""results/plots/reliability.png: how far each method's confidence matches its accuracy, in the
15 bins of the ECE (methods/calibration.py; the bins: analysis/reliability.py).

One column per scoring method (four to a row), readable at any number of runs: above, the
reliability curves, the few best-calibrated runs (lowest ECE) in colour and named with their
ECE, every other run a thin grey line; below, each run's ECE against its top-1, the same few
runs in their colours. A calibrated method's curves lie on the diagonal; curves below it are
over-confident (right less often than the top probability says).
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.analysis.metrics_tables import reference_rows
from cifar_zeroshot.report.plot_parts import COLOURS

# How many runs per method are drawn in colour and named.
HIGHLIGHTED = 3
# Methods side by side before the next pair of rows begins.
MOST_COLUMNS = 4


def _label(model: str, variant: str, several_variants: bool) -> str:
    return f"{model} · {variant}" if several_variants else str(model)


def highlighted_runs(scores: pd.DataFrame, most: int = HIGHLIGHTED) -> pd.DataFrame:
    """The ``most`` rows of one method's scores with the lowest ECE (ties: the table's order);
    rows without an ECE are never among them."""
    return scores.dropna(subset=["ece"]).sort_values("ece", kind="stable").head(most)


def reliability_figure(frame: pd.DataFrame, metrics: pd.DataFrame) -> Figure:
    """Per method: the reliability curves (best-calibrated runs named) over the ECE against
    top-1 of every run."""
    methods = list(dict.fromkeys(frame["method"]))
    columns = min(MOST_COLUMNS, max(1, len(methods)))
    blocks = max(1, -(-len(methods) // columns))
    figure = Figure(figsize=(4.4 * columns + 0.6, 8.4 * blocks), layout="constrained")
    axes = figure.subplots(2 * blocks, columns, squeeze=False, sharey="row")
    for number in range(len(methods), blocks * columns):
        for row in (0, 1):
            axes[2 * (number // columns) + row][number % columns].set_visible(False)
    # The bins are CIFAR-10's (reliability_table), so is their ECE: one row per run and method,
    # where metrics.csv has more with shifted test sets.
    scores = reference_rows(metrics).drop_duplicates(["model", "variant", "method"])
    several_variants = frame["variant"].nunique() > 1
    for number, method in enumerate(methods):
        block, column = divmod(number, columns)
        curves, spread = axes[2 * block][column], axes[2 * block + 1][column]
        ours = scores[scores["method"] == method]
        best = highlighted_runs(ours)
        colour = {
            (m, v): COLOURS[i % len(COLOURS)]
            for i, (m, v) in enumerate(zip(best["model"], best["variant"], strict=True))
        }
        bins = frame[frame["method"] == method]
        curves.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        others = 0
        for (model, variant), run in bins.groupby(["model", "variant"], sort=False):
            filled = run[run["images"] > 0]
            if (model, variant) in colour:
                continue  # drawn last, on top
            others += 1
            curves.plot(
                filled["mean_confidence"], filled["accuracy"], color="0.6", linewidth=0.6, alpha=0.5
            )
        for model, variant, ece in zip(best["model"], best["variant"], best["ece"], strict=True):
            run = bins[(bins["model"] == model) & (bins["variant"] == variant)]
            filled = run[run["images"] > 0]
            curves.plot(
                filled["mean_confidence"],
                filled["accuracy"],
                marker="o",
                markersize=3,
                linewidth=1.6,
                color=colour[model, variant],
                label=f"{_label(model, variant, several_variants)}: ECE {ece:.3f}",
            )
        if others:
            curves.plot([], [], color="0.6", linewidth=0.6, label=f"{others} other run(s)")
        curves.legend(fontsize=7, loc="upper left")
        curves.set_title(f"{method}: lowest ECE in colour", fontsize=9)
        curves.set_xlim(0, 1)
        curves.set_ylim(0, 1)
        curves.set_aspect("equal")
        curves.grid(alpha=0.3)
        curves.set_xlabel("mean top probability in the bin")
        run_colours = [
            colour.get((m, v), "0.6") for m, v in zip(ours["model"], ours["variant"], strict=True)
        ]
        order = np.argsort([c != "0.6" for c in run_colours], kind="stable")  # colour on top
        spread.scatter(
            100 * ours["top1"].to_numpy(float)[order],
            ours["ece"].to_numpy(float)[order],
            c=[run_colours[i] for i in order],
            s=22,
            zorder=3,
        )
        spread.set_title(f"{method}: every run ({len(ours)})", fontsize=9)
        # One 0-100 scale for every method, its end ticks clear of the next panel's.
        spread.set_xlim(-5, 105)
        spread.set_xticks(range(0, 101, 20))
        spread.set_xlabel("top-1 accuracy (%)")
        spread.grid(alpha=0.3)
    for block in range(blocks):
        axes[2 * block][0].set_ylabel("accuracy in the bin")
        axes[2 * block + 1][0].set_ylabel("expected calibration error (ECE)")
    figure.suptitle("Reliability: accuracy against confidence in 15 equal-width bins")
    return figure
