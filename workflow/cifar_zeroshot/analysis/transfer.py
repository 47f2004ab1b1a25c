"""How far ImageNet accuracy carries over to CIFAR-10: per scoring method, each model's CIFAR-10
top-1 against its weights' published ImageNet-1k top-1 (results/leaderboard.csv's
published_imagenet_top1), the least-squares line and Pearson's r and Spearman's rho, as in
Kornblith et al. (2019, "Do Better ImageNet Models Transfer Better?"). The figure
(report/transfer_plot.py) and the summary's sentences (report/transfer_section.py) share it.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cifar_zeroshot.analysis.metrics_tables import reference_rows
from cifar_zeroshot.core.variants import Variant

# Fewer models than this: no line and no correlation (two points always lie on a line).
FEWEST_MODELS = 3


@dataclass(frozen=True)
class TransferFit:
    """The least-squares line of CIFAR-10 top-1 on ImageNet top-1 (both in %) and the two
    correlations, over ``models`` models."""

    slope: float
    intercept: float
    pearson: float
    spearman: float
    models: int


def transfer_fit(imagenet: np.ndarray, cifar10: np.ndarray) -> TransferFit | str:
    """The fit of ``cifar10`` on ``imagenet``, or why there is none (too few models, or one of
    the two the same for every model, where no correlation is defined)."""
    if len(imagenet) < FEWEST_MODELS:
        return f"fewer than {FEWEST_MODELS} models with a published figure: no fit"
    if np.ptp(imagenet) == 0 or np.ptp(cifar10) == 0:
        return "every model has the same accuracy on one of the two: no correlation"
    slope, intercept = np.polyfit(imagenet, cifar10, 1)
    return TransferFit(
        slope=float(slope),
        intercept=float(intercept),
        pearson=float(stats.pearsonr(imagenet, cifar10).statistic),
        spearman=float(stats.spearmanr(imagenet, cifar10).statistic),
        models=len(imagenet),
    )


def one_per_model(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model and method, on CIFAR-10 (or the reference test set): the model's
    reference variant where the table has it, else its first."""
    rows = reference_rows(table) if "test_set" in table.columns else table
    if "variant" not in rows.columns:
        return rows.drop_duplicates(["model", "method"]).reset_index(drop=True)
    reference = rows["variant"].map(lambda v: Variant.parse(str(v)).reference.name == str(v))
    ordered = rows.assign(_reference=~reference).sort_values("_reference", kind="stable")
    kept = ordered.drop_duplicates(["model", "method"]).sort_index()
    return kept.drop(columns="_reference").reset_index(drop=True)
