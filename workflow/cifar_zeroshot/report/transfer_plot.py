"""results/plots/imagenet_vs_transfer.png: does ImageNet accuracy carry over to CIFAR-10?

One panel per scoring method (the zero-shot methods, and the linear probe where it ran): each
model's CIFAR-10 top-1 against its published ImageNet-1k top-1, the least-squares line, and
Pearson's r and Spearman's rho written on the panel. A model counts once per method, by its
reference variant (fp32, eager) where it has one. Models without a published ImageNet figure
are left out, and each panel says how many.

The table read has the columns ``model``, ``method``, ``top1`` and
``published_imagenet_top1`` (both fractions; the latter empty where no figure is published), and
optionally ``variant`` and ``test_set`` (results/leaderboard.csv has all of them). The fit and
the one row per model are analysis/transfer.py's.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cifar_zeroshot.analysis.transfer import TransferFit, one_per_model, transfer_fit
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.report.plot_parts import COLOURS
from cifar_zeroshot.report.point_labels import place_labels

TRANSFER_COLUMNS = ("model", "method", "top1", "published_imagenet_top1")
# Up to this many models per panel each point is named; beyond, none is.
MOST_NAMED = 12


def read_transfer_table(path: str | Path) -> pd.DataFrame:
    """The CSV at ``path`` (results/leaderboard.csv), refused with the fix where it lacks one
    of TRANSFER_COLUMNS."""
    table = pd.read_csv(path, dtype={"variant": str})
    missing = [column for column in TRANSFER_COLUMNS if column not in table.columns]
    if missing:
        raise UserError(
            f"{path} has no column {', '.join(missing)}: the ImageNet-against-CIFAR-10 figure "
            f"needs {', '.join(TRANSFER_COLUMNS)}. Rerun the workflow so the leaderboard is "
            "written again with them."
        )
    return table


def _fit_text(fit: TransferFit) -> str:
    sign = "+" if fit.intercept >= 0 else "-"
    return (
        f"least squares: y = {fit.slope:.2f} x {sign} {abs(fit.intercept):.1f}\n"
        f"Pearson r = {fit.pearson:.2f}, Spearman $\\rho$ = {fit.spearman:.2f} "
        f"({fit.models} models)"
    )


def _panel(ax: Axes, rows: pd.DataFrame, colour: str) -> TransferFit | str:
    published = rows[rows["published_imagenet_top1"].notna()]
    x = 100 * published["published_imagenet_top1"].to_numpy(float)
    y = 100 * published["top1"].to_numpy(float)
    ax.scatter(x, y, color=colour, s=30, zorder=3)
    fit = transfer_fit(x, y)
    notes = []
    if isinstance(fit, TransferFit):
        ends = np.array([x.min(), x.max()])
        ax.plot(ends, fit.slope * ends + fit.intercept, color="0.2", linewidth=1.2)
        notes.append(_fit_text(fit))
    else:
        notes.append(fit)
    left_out = len(rows) - len(published)
    if left_out:
        notes.append(f"{left_out} model(s) without a published ImageNet top-1 left out")
    ax.text(0.02, 0.98, "\n".join(notes), transform=ax.transAxes, va="top", fontsize=8)
    ax.set_xlabel("published ImageNet-1k top-1 (%)")
    ax.grid(alpha=0.3)
    if len(x):
        # At least ten points wide, so one model or close ones do not fill the panel.
        span, yspan = max(float(np.ptp(x)), 10.0), max(float(np.ptp(y)), 10.0)
        middle, ymiddle = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
        ax.set_xlim(middle - 0.6 * span, middle + 0.6 * span)
        # Room above the points for the fit's text.
        ax.set_ylim(max(-2.0, ymiddle - 0.6 * yspan), min(105.0, ymiddle + 0.95 * yspan))
    return fit


def imagenet_vs_transfer_figure(table: pd.DataFrame) -> Figure:
    """Per method: CIFAR-10 top-1 against published ImageNet-1k top-1, the least-squares line
    and the correlations; each model once, by its reference variant."""
    rows = one_per_model(table)
    methods = list(dict.fromkeys(rows["method"]))
    figure = Figure(figsize=(5.2 * max(1, len(methods)) + 1.2, 5.6), layout="constrained")
    axes = figure.subplots(1, max(1, len(methods)), squeeze=False)[0]
    figure.suptitle("CIFAR-10 top-1 against published ImageNet-1k top-1\none point per model")
    if not methods:
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, "No scored runs to compare.", ha="center", va="center")
        return figure
    for number, (ax, method) in enumerate(zip(axes, methods, strict=True)):
        ours = rows[rows["method"] == method]
        _panel(ax, ours, COLOURS[number % len(COLOURS)])
        ax.set_title(method, fontsize=10)
        ax.set_ylabel("CIFAR-10 top-1 (%)")
    for ax, method in zip(axes, methods, strict=True):
        published = rows[(rows["method"] == method) & rows["published_imagenet_top1"].notna()]
        if len(published) <= MOST_NAMED:
            points = zip(
                100 * published["published_imagenet_top1"].to_numpy(float),
                100 * published["top1"].to_numpy(float),
                strict=True,
            )
            place_labels(ax, list(points), [str(m) for m in published["model"]], fontsize=7)
    return figure
