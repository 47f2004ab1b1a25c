"""results/plots/reliability.png: how far each method's confidence matches its accuracy, in the
15 bins of the ECE (methods/calibration.py; the bins: analysis/reliability.py).

The diagram has one row of panels per scoring method and one panel per model; each variant of a
model is one line. A calibrated method's points lie on the diagonal; points below it are
over-confident (right less often than the top probability says).
"""

import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.analysis.metrics_tables import reference_rows
from cifar_zeroshot.report.plot_parts import COLOURS


def reliability_figure(frame: pd.DataFrame, metrics: pd.DataFrame) -> Figure:
    """Rows: methods; panels: models; a line per variant, its ECE in the legend."""
    methods = list(dict.fromkeys(frame["method"]))
    models = list(dict.fromkeys(frame["model"]))
    figure = Figure(
        figsize=(3.2 * len(models) + 0.5, 3.2 * len(methods) + 0.8), layout="constrained"
    )
    axes = figure.subplots(len(methods), len(models), squeeze=False, sharex=True, sharey=True)
    # The bins are CIFAR-10's (reliability_table), so is their ECE: one row per run and method,
    # where metrics.csv has more with shifted test sets.
    ece = reference_rows(metrics).set_index(["model", "variant", "method"])["ece"]
    for i, method in enumerate(methods):
        for j, model in enumerate(models):
            ax = axes[i][j]
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
            rows = frame[(frame["method"] == method) & (frame["model"] == model)]
            if rows.empty:
                ax.text(0.5, 0.5, "not scored\nby this method", ha="center", va="center")
            for k, (variant, bins) in enumerate(rows.groupby("variant", sort=False)):
                filled = bins[bins["images"] > 0]
                ax.plot(
                    filled["mean_confidence"],
                    filled["accuracy"],
                    marker="o",
                    markersize=3,
                    color=COLOURS[k % len(COLOURS)],
                    label=f"{variant}: ECE {ece.get((model, variant, method), float('nan')):.3f}",
                )
            if not rows.empty:
                ax.legend(fontsize=7, loc="upper left")
            ax.set_title(f"{model}\n{method}", fontsize=9)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.grid(alpha=0.3)
            if i == len(methods) - 1:
                ax.set_xlabel("mean top probability in the bin")
            if j == 0:
                ax.set_ylabel("accuracy in the bin")
    figure.suptitle("Reliability: accuracy against confidence in 15 equal-width bins")
    return figure
