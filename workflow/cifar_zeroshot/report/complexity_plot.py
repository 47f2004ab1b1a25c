"""Accuracy against compute: top-1 against forward GFLOPs per image, beside accuracy_vs_speed.

Speed depends on the device, the variant and the batch size; FLOPs only on the model and its
input size (models.complexity). So the two views together tell a model that is slow because it
computes much from one that computes little but runs badly on this device. The points are drawn
as in plots.accuracy_vs_speed_figure: colour the architecture family, marker the variant, fill the
method; the Pareto front here is the most accurate run for its FLOPs.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.report.plots import accuracy_scatter


def accuracy_vs_gflops_figure(metrics: pd.DataFrame) -> Figure:
    """Top-1 accuracy against forward GFLOPs per image (log scale), one point per run and
    method; runs whose FLOPs were not counted are left out, and the figure says how many."""
    gflops = metrics.get("gflops_per_image", pd.Series(np.nan, index=metrics.index))
    return accuracy_scatter(
        metrics,
        gflops.to_numpy(float),
        "forward GFLOPs per image (a multiply-add is 2 FLOPs; log scale)",
        "g",
        "Accuracy vs compute (forward FLOPs at each model's input size)",
        "a FLOP count",
        x_higher_is_better=False,
    )
