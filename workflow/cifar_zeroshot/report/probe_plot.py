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
    bar_height_figure,
    interval_bars,
    percent_axes,
    run_labels,
)
from cifar_zeroshot.report.provenance import images_name


def _series(images: str) -> tuple[tuple[str, str, str], ...]:
    """(method, legend, colour) of the two bars; the legend names the probe's training images."""
    return (
        (ClassMappingMethod.name, "zero-shot (class mapping)", COLOURS[0]),
        (LinearProbeMethod.name, f"linear probe (trained on features of {images})", COLOURS[2]),
    )


def probe_vs_zero_shot_figure(metrics: pd.DataFrame) -> Figure:
    """Grouped bars with 95 % Wilson intervals, for every run that has a probe row."""
    probed = metrics.loc[metrics["method"] == LinearProbeMethod.name, ["model", "variant"]]
    rows = metrics.merge(probed, on=["model", "variant"])
    runs = probed.drop_duplicates()
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
    ax.set_title("What the features know (linear probe) beside what the label mapping gets")
    return figure
