"""results/paired_tests.csv: every pair of evaluated runs scored on the same images, compared.

Any two results (models, variants, methods) on the same images form a pair: their 2x2 table of
right and wrong, the difference in top-1 with Newcombe's 95 % interval, McNemar's exact p-value
and its Holm-corrected value across all pairs (analysis/paired_statistics.py). Variant pairs of one
model (fp32 against bf16, torch against ONNX Runtime) are the agreement check read as a test.

Runs on other images are never paired: they get no row, and the summary says why.
"""

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cifar_zeroshot.analysis.evaluation import MethodResult
from cifar_zeroshot.analysis.paired_statistics import (
    SIGNIFICANCE,
    PairedTable,
    holm,
    mcnemar_exact,
    newcombe_interval,
)

# The metrics.csv columns that say which images a run scored; runs are paired only where all
# agree (and the image indices and labels themselves are equal).
IMAGE_COLUMNS: tuple[str, ...] = ("dataset", "test_set", "corruption", "severity", "images")
_TEST_SET_COLUMNS = ("test_set", "corruption", "severity")

_SIDE_COLUMNS = ("model", "variant", "method")
PAIRED_COLUMNS: tuple[str, ...] = (
    *(f"{column}_a" for column in _SIDE_COLUMNS),
    *(f"{column}_b" for column in _SIDE_COLUMNS),
    *IMAGE_COLUMNS,
    "both_right",
    "only_a_right",
    "only_b_right",
    "both_wrong",
    "top1_a",
    "top1_b",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "mcnemar_p",
    "holm_p",
    "significant",
    "significance_level",
)


def images_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """What identifies the images a metrics row was scored on."""
    return tuple(row[column] for column in IMAGE_COLUMNS)


@dataclass(frozen=True)
class PairedResult:
    """What the paired tests read of one result: whose it is, which images it scored (the
    IMAGE_COLUMNS' values, the image indices and labels) and which of them it got right."""

    key: tuple[str, str, str]  # model, variant, method
    images: tuple[Any, ...]  # IMAGE_COLUMNS' values, as metrics.csv has them
    image_index: np.ndarray
    labels: np.ndarray
    right: np.ndarray  # bool per image: top-1 equals the label


def paired_result(result: MethodResult) -> PairedResult:
    """The part of ``result`` the paired tests compare (metrics.csv's IMAGE_COLUMNS of its row)."""
    run = result.run
    images = (
        run.facts.dataset,
        result.test_set,
        result.corruption,
        result.severity,
        len(result.predicted),
    )
    return PairedResult(
        result.run_key, images, run.image_index, run.labels, result.predicted == run.labels
    )


def result_label(model: str, variant: str, method: str) -> str:
    return f"{model} {variant} ({method})"


@dataclass(frozen=True)
class PairedTests:
    table: pd.DataFrame  # PAIRED_COLUMNS, one row per pair
    unpaired: list[str]  # why some results were not compared, one sentence each
    significance: float  # the level the Holm-corrected p-values are held against


def _key_text(key: tuple[Any, ...]) -> str:
    """ "test_set cifar10-c, corruption fog, severity 5, images 200" (empty parts left out)."""
    parts = zip(IMAGE_COLUMNS, key, strict=True)
    return ", ".join(f"{column} {value}" for column, value in parts if value not in ("", None))


def _test_set(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """The test set, corruption and severity of an images key."""
    return tuple(key[IMAGE_COLUMNS.index(column)] for column in _TEST_SET_COLUMNS)


def _same_images(first: PairedResult, second: PairedResult) -> bool:
    return np.array_equal(first.image_index, second.image_index) and np.array_equal(
        first.labels, second.labels
    )


def _groups(results: Sequence[PairedResult]) -> tuple[list[list[PairedResult]], list[str]]:
    """The results in groups scored on the same images, and why the groups are kept apart: one
    sentence per group after the first (so a CIFAR-10-C block adds one line, not one per run)."""
    groups: list[list[PairedResult]] = []
    keys: list[tuple[Any, ...]] = []
    for result in results:
        key = result.images
        for group, group_key in zip(groups, keys, strict=True):
            if group_key == key and _same_images(group[0], result):
                group.append(result)
                break
        else:
            groups.append([result])
            keys.append(key)
    reasons = []
    for number, (group, key) in enumerate(zip(groups, keys, strict=True)):
        # Other test sets and CIFAR-10-C blocks are other images by design: said once in the
        # summary. A reason only where the same set was scored on other images (another limit).
        if not any(_test_set(other) == _test_set(key) for other in keys[:number]):
            continue
        why = (
            f"other image indices or labels under the same {_key_text(key)}"
            if key in keys[:number]
            else f"{_key_text(key)}"
        )
        reasons.append(
            f"{len(group)} result(s) (e.g. {result_label(*group[0].key)}) were scored on {why}: "
            "they are compared only with each other, since only runs on the same images can be "
            "compared image by image."
        )
    return groups, reasons


def _pair_row(first: PairedResult, second: PairedResult) -> dict[str, Any]:
    right_a, right_b = first.right, second.right
    table = PairedTable(
        both_right=int((right_a & right_b).sum()),
        only_a_right=int((right_a & ~right_b).sum()),
        only_b_right=int((~right_a & right_b).sum()),
        both_wrong=int((~right_a & ~right_b).sum()),
    )
    low, high = newcombe_interval(table)
    row: dict[str, Any] = {}
    for side, result in (("a", first), ("b", second)):
        row |= dict(zip((f"{c}_{side}" for c in _SIDE_COLUMNS), result.key, strict=True))
    row |= dict(zip(IMAGE_COLUMNS, first.images, strict=True))
    return row | {
        "both_right": table.both_right,
        "only_a_right": table.only_a_right,
        "only_b_right": table.only_b_right,
        "both_wrong": table.both_wrong,
        "top1_a": float(right_a.mean()),
        "top1_b": float(right_b.mean()),
        "difference": table.difference,
        "difference_ci_low": low,
        "difference_ci_high": high,
        "mcnemar_p": mcnemar_exact(table.only_a_right, table.only_b_right),
    }


def paired_tests(
    results: Sequence[MethodResult], significance: float = SIGNIFICANCE
) -> PairedTests:
    """Every pair of ``results`` (sorted as score_runs sorts them) on the same images; a pair
    is significant where its Holm-corrected p-value is below ``significance``."""
    return paired_tests_of([paired_result(result) for result in results], significance)


def paired_tests_of(
    results: Sequence[PairedResult], significance: float = SIGNIFICANCE
) -> PairedTests:
    """paired_tests on what each result brings to them (paired_result)."""
    groups, reasons = _groups(results)
    rows = [
        _pair_row(first, second)
        for group in groups
        for first, second in itertools.combinations(group, 2)
    ]
    adjusted = holm([row["mcnemar_p"] for row in rows])
    for row, p in zip(rows, adjusted, strict=True):
        row["holm_p"] = p
        row["significant"] = bool(p < significance)
        row["significance_level"] = significance
    return PairedTests(pd.DataFrame(rows, columns=list(PAIRED_COLUMNS)), reasons, significance)
