"""results/plots/probe_vs_zero_shot.png: per run, zero-shot top-1 beside linear-probe top-1.

The gap between the two bars is what the label mapping loses: the probe reads the same
features with a classifier fitted to CIFAR-10's own classes.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.methods.probe.method import LinearProbeMethod
from cifar_zeroshot.report.plot_parts import (
    COLOURS,
    MOST_ROWS,
    bar_height_figure,
    best_rows,
    interval_bars,
    percent_axes,
    run_labels,
    titled,
)
from cifar_zeroshot.report.provenance import images_name


def _series(images: str) -> tuple[tuple[str, str, str], ...]:
    """(method, legend, colour) of the two bars; the legend names the probe's training images."""
    return (
        (ClassMappingMethod.name, "zero-shot (class mapping)", COLOURS[0]),
        (LinearProbeMethod.name, f"linear probe (trained on features of {images})", COLOURS[2]),
    )


def probe_vs_zero_shot_figure(metrics: pd.DataFrame) -> Figure:
    """Grouped bars with 95 % Wilson intervals, for every run that has a probe row; beyond
    MOST_ROWS // 2 runs, those of best probe top-1."""
    probe_rows = metrics[metrics["method"] == LinearProbeMethod.name]
    probed = probe_rows[["model", "variant"]]
    rows = metrics.merge(probed, on=["model", "variant"])
    runs, note = best_rows(
        probe_rows.drop_duplicates(["model", "variant"]),
        probe_rows.drop_duplicates(["model", "variant"])["top1"],
        "runs by linear-probe top-1",
        "results/leaderboard.csv",
        most=MOST_ROWS // 2,  # two bars a run
    )
    runs = runs[["model", "variant"]]
    labels = run_labels(runs)
    figure = bar_height_figure(2 * len(labels) + 1)
    ax = figure.subplots()
    y = np.arange(len(labels))
    keys = list(zip(runs["model"], runs["variant"], strict=True))
    for offset, (method, legend, colour) in zip(
        (-0.2, 0.2), _series(images_name(metrics)), strict=True
    ):
        by_run = rows[rows["method"] == method].set_index(["model", "variant"]).reindex(keys)
        values, low, high = (
            100 * by_run[column].to_numpy(float)
            for column in ("top1", "top1_ci_low", "top1_ci_high")
        )
        interval_bars(ax, y + offset, values, (low, high), colour, legend)
    xlabel = "top-1 accuracy over the 10 CIFAR-10 classes (%), error bars: 95 % Wilson"
    percent_axes(ax, labels, xlabel)
    ax.set_title(
        titled("What the features know (linear probe) beside what the label mapping gets", note)
    )
    return figure
