"""Accuracy against compute: top-1 against forward GFLOPs per image, beside accuracy_vs_speed.

Speed depends on the device, the variant and the batch size; FLOPs only on the model and its
input size (models.complexity). So the two views together tell a model that is slow because it
computes much from one that computes little but runs badly on this device. The points are drawn
as in plots.accuracy_vs_speed_figure: colour the model, marker the variant, fill the method.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from cifar_zeroshot.methods.registry import ZERO_SHOT_METHODS
from cifar_zeroshot.report.plots import VARIANT_MARKERS, _key_legend


def accuracy_vs_gflops_figure(metrics: pd.DataFrame) -> Figure:
    """Top-1 accuracy against forward GFLOPs per image (log scale), one point per run and
    method; runs whose FLOPs were not counted are left out, and the figure says how many."""
    figure = Figure(figsize=(9, 6), layout="constrained")
    ax = figure.subplots()
    gflops = metrics.get("gflops_per_image", pd.Series(np.nan, index=metrics.index))
    gflops = gflops.to_numpy(float)
    accuracy = 100 * metrics["top1"].to_numpy(float)
    models = list(dict.fromkeys(metrics["model"]))
    variants = list(dict.fromkeys(metrics["variant"]))
    methods = list(dict.fromkeys(metrics["method"]))
    colour = {model: f"C{i % 10}" for i, model in enumerate(models)}
    marker = {v: VARIANT_MARKERS[i % len(VARIANT_MARKERS)] for i, v in enumerate(variants)}
    finite = np.isfinite(gflops) & np.isfinite(accuracy) & (gflops > 0)
    for index in np.flatnonzero(finite):
        row = metrics.iloc[index]
        model = row["model"]
        ax.scatter(
            [gflops[index]],
            [accuracy[index]],
            s=55,
            marker=marker[row["variant"]],
            facecolors=colour[model] if row["method"] in ZERO_SHOT_METHODS else "none",
            edgecolors=colour[model],
            linewidths=1.6,
            zorder=3,
        )
    if finite.any():
        ax.set_xscale("log")
        ax.set_xlim(gflops[finite].min() / 1.6, gflops[finite].max() * 1.6)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.margins(y=0.12)
    if not finite.all():
        left_out = int((~finite).sum())
        ax.text(
            0.01,
            0.01,
            f"{left_out} row(s) without a FLOP count left out",
            transform=ax.transAxes,
            fontsize=8,
            color="0.35",
        )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))
    ax.grid(alpha=0.3, which="both")
    ax.set_xlabel("forward GFLOPs per image (a multiply-add is 2 FLOPs; log scale)")
    ax.set_ylabel("top-1 accuracy (%)")
    grey = {"color": "0.35"}
    sections = [
        ("model", [(m, {"marker": "o", "color": colour[m]}) for m in models]),
        ("variant", [(v, {"marker": marker[v], **grey}) for v in variants]),
    ]
    if len(methods) > 1:
        fills = [
            (m, {"marker": "o", **grey, **({} if m in ZERO_SHOT_METHODS else {"mfc": "none"})})
            for m in methods
        ]
        sections.append(("method (filled: zero-shot)", fills))
    _key_legend(figure, sections)
    ax.set_title("Accuracy vs compute (forward FLOPs at each model's input size)")
    return figure
