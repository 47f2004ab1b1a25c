"""The balanced methods' own tables: the offsets they fitted (results/balancing.csv) and each
alternative's per-class recall, balanced or not (results/per_class_poolings.csv).

balancing.csv has one row per scope, run, balanced method, scores balanced (a pooling for the
class mapping) and fit (the cross-fitted scheme's two halves are two fits): the ten offsets
added to the log-probabilities, where they were fitted and applied, and how the fit converged.
"""

from collections.abc import Sequence
from typing import Any

import pandas as pd

from cifar_zeroshot.analysis.evaluation import MethodResult
from cifar_zeroshot.analysis.metrics_tables import SCOPE_COLUMNS
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.methods.balanced import BalancedMethod
from cifar_zeroshot.methods.registry import method_class
from cifar_zeroshot.methods.scoring import class_recalls

_KEY_COLUMNS = (*SCOPE_COLUMNS, "model", "variant", "method")
OFFSET_COLUMNS = tuple(f"offset_{name}" for name in CIFAR10_CLASSES)
BALANCING_COLUMNS: tuple[str, ...] = (
    *_KEY_COLUMNS,
    "scores",  # what was balanced: a pooling for the class mapping, else the method's scores
    "fit",  # cross_fitted or all
    "fitted_on",
    "applied_to",
    "fitted_images",
    "applied_images",
    *OFFSET_COLUMNS,
    "iterations",
    "converged",
    "max_marginal_error",
)
PER_CLASS_POOLING_COLUMNS: tuple[str, ...] = (
    *_KEY_COLUMNS,
    "pooling",
    "cifar_class",
    "images",
    "correct",
    "recall",
)


def _fit_of(method: str) -> str:
    cls = method_class(method)
    return cls.fit if issubclass(cls, BalancedMethod) else "none"


def balancing_rows(result: MethodResult) -> list[dict[str, Any]]:
    key = dict(zip(_KEY_COLUMNS, result.key, strict=True))
    rows = []
    for scores, applied in result.balancing:
        fit = applied.fit
        rows.append(
            key
            | {"scores": scores, "fit": _fit_of(result.method)}
            | {"fitted_on": applied.fitted_on, "applied_to": applied.applied_to}
            | {"fitted_images": applied.fitted_images, "applied_images": applied.applied_images}
            | dict(zip(OFFSET_COLUMNS, map(float, fit.offsets), strict=True))
            | {"iterations": fit.iterations, "converged": fit.converged}
            | {"max_marginal_error": fit.max_marginal_error}
        )
    return rows


def balancing_table(results: Sequence[MethodResult]) -> pd.DataFrame:
    rows = [row for result in results for row in balancing_rows(result)]
    return pd.DataFrame(rows, columns=list(BALANCING_COLUMNS)).astype({"severity": "Int64"})


def per_class_pooling_rows(result: MethodResult) -> list[dict[str, Any]]:
    """Per alternative (pooling) of the result's method: each class's images, hits and recall."""
    labels = result.run.labels
    key = dict(zip(_KEY_COLUMNS, result.key, strict=True))
    rows = []
    for pooling, predicted in result.alternative_predicted.items():
        recalls = class_recalls(labels, predicted, len(CIFAR10_CLASSES))
        for k, name in enumerate(CIFAR10_CLASSES):
            members = labels == k
            rows.append(
                key
                | {"pooling": pooling, "cifar_class": name, "images": int(members.sum())}
                | {"correct": int((predicted[members] == k).sum()), "recall": recalls[k]}
            )
    return rows


def per_class_pooling_table(results: Sequence[MethodResult]) -> pd.DataFrame:
    rows = [row for result in results for row in per_class_pooling_rows(result)]
    return pd.DataFrame(rows, columns=list(PER_CLASS_POOLING_COLUMNS)).astype({"severity": "Int64"})


def read_per_class_poolings(path: str) -> pd.DataFrame:
    text = {c: str for c in ("test_set", "corruption", "model", "variant", "method", "pooling")}
    return pd.read_csv(path, dtype=text)
