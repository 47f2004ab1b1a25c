"""Robustness from metrics.csv: each run's accuracy on the shifted sets beside CIFAR-10's, and its
effective robustness (Taori et al. 2020).

Per model, variant and method: CIFAR-10 top-1, CIFAR-10.1 top-1 and the drop, and CIFAR-10-C's
mean top-1 over the selected corruptions and severities and its drop, each with a 95% interval.
Effective robustness: per shifted set and method, a line fitted across the models in probit
space, probit(shifted) = slope * probit(CIFAR-10) + intercept; a run's effective robustness is
its shifted accuracy minus the fit's prediction at its CIFAR-10 accuracy, in points. The fit
needs at least MIN_FIT_MODELS models whose CIFAR-10 accuracy is not at chance; otherwise
results/robustness.csv says why there is none. Its Markdown and CSV: report/robustness_section.py.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from cifar_zeroshot.core.choices import REFERENCE_TEST_SET
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.data.test_sets import TEST_SETS
from cifar_zeroshot.methods.scoring import wilson_interval

MIN_FIT_MODELS = 3
CHANCE = 1.0 / NUM_CIFAR10_CLASSES


def shifted_sets() -> tuple[str, ...]:
    """Every registered set beside CIFAR-10, in registry order (the user's sets registered
    from the config included, hence looked up when asked)."""
    return tuple(name for name, entry in TEST_SETS.items() if not entry.reference)


RUN_KEY = ["model", "variant", "method"]
ROBUSTNESS_COLUMNS = (
    "model",
    "variant",
    "method",
    "test_set",
    "cifar10_top1",
    "cifar10_ci_low",
    "cifar10_ci_high",
    "shifted_top1",
    "shifted_ci_low",
    "shifted_ci_high",
    "drop",
    "drop_ci_low",
    "drop_ci_high",
    "effective_robustness",
    "fit_slope",
    "fit_intercept",
    "fit_models",
    "no_fit_reason",
)


@dataclass(frozen=True)
class ProbitFit:
    slope: float
    intercept: float
    models: int

    def predict(self, clean: np.ndarray) -> np.ndarray:
        """The shifted accuracy the fit expects at CIFAR-10 accuracy ``clean``."""
        return norm.cdf(self.slope * probit(clean) + self.intercept)


# Accuracies are ratios of image counts: rounding there drops float noise (a mean of six equal
# accuracies, a difference of equal ones) that would show as drops of 1e-17, and nothing else.
DECIMALS = 12


def probit(accuracy: np.ndarray | float, images: int | None = None) -> np.ndarray:
    """The probit of an accuracy, kept finite: 0 and 1 are moved half an image inwards."""
    edge = 0.5 / images if images else 1e-6
    return norm.ppf(np.clip(np.asarray(accuracy, dtype=float), edge, 1 - edge))


def difference_interval(
    shifted: tuple[float, float, float], clean: tuple[float, float, float]
) -> tuple[float, float]:
    """95% interval of clean - shifted (the drop) from each accuracy's Wilson interval
    (Newcombe's square-and-add method; the two samples taken as independent)."""
    (p1, l1, u1), (p2, l2, u2) = clean, shifted
    drop = p1 - p2
    return (
        drop - math.hypot(p1 - l1, u2 - p2),
        drop + math.hypot(u1 - p1, p2 - l2),
    )


def shifted_accuracy(rows: pd.DataFrame) -> tuple[float, float, float]:
    """A run's accuracy on one shifted set: CIFAR-10.1's row, or CIFAR-10-C's mean over its
    blocks. The interval of a mean over blocks counts one block's images, not all: every block
    holds the same source images, so the blocks are not independent samples (conservative)."""
    accuracy = round(float(rows["top1"].mean()), DECIMALS)
    images = int(rows["images"].min())
    low, high = wilson_interval(round(accuracy * images), images)
    return accuracy, low, high


def fit_reason(clean: pd.DataFrame) -> str | None:
    """Why no fit can be drawn through these runs' CIFAR-10 accuracies, or None."""
    models = clean["model"].nunique()
    if models < MIN_FIT_MODELS:
        return f"{models} model(s): a fit across models needs at least {MIN_FIT_MODELS}"
    above = clean[clean["cifar10_ci_low"] > CHANCE]["model"].nunique()
    if above < MIN_FIT_MODELS:
        return (
            f"only {above} model(s) score above chance ({CHANCE:.0%}) on CIFAR-10: a line "
            "through accuracies at chance says nothing"
        )
    if clean["cifar10_top1"].nunique() < 2:
        return "every model has the same CIFAR-10 accuracy"
    return None


def probit_fit(clean: np.ndarray, shifted: np.ndarray, models: int, images: int) -> ProbitFit:
    slope, intercept = np.polyfit(probit(clean, images), probit(shifted, images), 1)
    return ProbitFit(float(slope), float(intercept), models)


def robustness_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """results/robustness.csv: one row per run, method and shifted set (empty without any)."""
    if "test_set" not in metrics.columns:
        return pd.DataFrame(columns=list(ROBUSTNESS_COLUMNS))
    reference = metrics[metrics["test_set"] == REFERENCE_TEST_SET]
    rows = []
    for test_set in shifted_sets():
        shifted = metrics[metrics["test_set"] == test_set]
        for key, group in shifted.groupby(RUN_KEY, sort=True):
            clean = reference[(reference[RUN_KEY] == pd.Series(key, index=RUN_KEY)).all(axis=1)]
            if clean.empty:
                continue
            clean_row = clean.iloc[0]
            clean_acc = (
                float(clean_row["top1"]),
                float(clean_row["top1_ci_low"]),
                float(clean_row["top1_ci_high"]),
            )
            shifted_acc = shifted_accuracy(group)
            drop_low, drop_high = difference_interval(shifted_acc, clean_acc)
            rows.append(
                dict(zip(RUN_KEY, key, strict=True))
                | {"test_set": test_set, "images": int(clean_row["images"])}
                | dict(
                    zip(
                        ("cifar10_top1", "cifar10_ci_low", "cifar10_ci_high"),
                        clean_acc,
                        strict=True,
                    )
                )
                | dict(
                    zip(
                        ("shifted_top1", "shifted_ci_low", "shifted_ci_high"),
                        shifted_acc,
                        strict=True,
                    )
                )
                | {"drop": round(clean_acc[0] - shifted_acc[0], DECIMALS)}
                | {"drop_ci_low": drop_low, "drop_ci_high": drop_high}
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=list(ROBUSTNESS_COLUMNS))
    return _with_effective_robustness(table)[list(ROBUSTNESS_COLUMNS)]


def _with_effective_robustness(table: pd.DataFrame) -> pd.DataFrame:
    """Each row with its fit (per shifted set and method) and its distance above it, in points."""
    parts = []
    for _, group in table.groupby(["test_set", "method"], sort=False):
        group = group.copy()
        reason = fit_reason(group)
        if reason is None:
            fit = probit_fit(
                group["cifar10_top1"].to_numpy(),
                group["shifted_top1"].to_numpy(),
                group["model"].nunique(),
                int(group["images"].min()),
            )
            expected = fit.predict(group["cifar10_top1"].to_numpy())
            group["effective_robustness"] = 100 * (group["shifted_top1"] - expected)
            group["fit_slope"], group["fit_intercept"] = fit.slope, fit.intercept
            group["fit_models"], group["no_fit_reason"] = fit.models, ""
        else:
            group["effective_robustness"] = np.nan
            group["fit_slope"] = group["fit_intercept"] = np.nan
            group["fit_models"], group["no_fit_reason"] = group["model"].nunique(), reason
        parts.append(group)
    return pd.concat(parts, ignore_index=True)


def fits(table: pd.DataFrame) -> dict[tuple[str, str], ProbitFit | str]:
    """(test set, method) -> its fit, or why there is none (for the plot)."""
    out: dict[tuple[str, str], ProbitFit | str] = {}
    for (test_set, method), group in table.groupby(["test_set", "method"], sort=True):
        first = group.iloc[0]
        if pd.isna(first["fit_slope"]):
            out[(test_set, method)] = str(first["no_fit_reason"])
        else:
            out[(test_set, method)] = ProbitFit(
                float(first["fit_slope"]), float(first["fit_intercept"]), int(first["fit_models"])
            )
    return out
