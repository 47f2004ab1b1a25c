"""results/paired_tests.csv: every pair of evaluated runs scored on the same images, compared.

Any two results (models, variants, methods) on the same images form a pair: their 2x2 table of
right and wrong, the difference in top-1 with Newcombe's 95 % interval, McNemar's exact p-value
and its Holm-corrected value across all pairs (analysis/paired_statistics.py). Variant pairs of one
model (fp32 against bf16, torch against ONNX Runtime) are the agreement check read as a test.

Runs on other images are never paired: they get no row, and the summary says why.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cifar_zeroshot.analysis.evaluation import MethodResult
from cifar_zeroshot.analysis.paired_statistics import (
    SIGNIFICANCE,
    holm_many,
    mcnemar_exact_many,
    newcombe_intervals,
)

# The metrics.csv columns that say which images a run scored; runs are paired only where all
# agree (and the image indices and labels themselves are equal).
IMAGE_COLUMNS: tuple[str, ...] = ("dataset", "test_set", "corruption", "severity", "images")
_TEST_SET_COLUMNS = ("test_set", "corruption", "severity")

# What names a result: each pair has them for its side a and its side b (NAME_COLUMNS).
SIDE_COLUMNS: tuple[str, ...] = ("model", "variant", "method")
NAME_COLUMNS: tuple[str, ...] = tuple(f"{c}_{side}" for side in "ab" for c in SIDE_COLUMNS)
PAIRED_COLUMNS: tuple[str, ...] = (
    *NAME_COLUMNS,
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


def read_paired_tests_csv(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """results/paired_tests.csv (``columns`` of it, or all) with the pairs' model, variant,
    method and test set as categoricals, their values read as text: a code per pair, not a
    string (1,000 runs make 4.5 million pairs; a reader that needs a few columns reads only
    those, which keeps the parser's memory to them)."""
    text = [*NAME_COLUMNS, "test_set"]
    wanted = list(PAIRED_COLUMNS if columns is None else columns)
    return pd.read_csv(
        path, usecols=wanted, dtype={column: "category" for column in text if column in wanted}
    )[wanted]


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
    """The results in groups scored on the same images (in the order each group's first result
    comes), and why the groups are kept apart: one sentence per group after the first (so a
    CIFAR-10-C block adds one line, not one per run)."""
    groups: list[list[PairedResult]] = []
    keys: list[tuple[Any, ...]] = []
    by_key: dict[tuple[Any, ...], list[int]] = {}  # images key -> its groups' numbers
    for result in results:
        key = result.images
        numbers = by_key.setdefault(key, [])
        for number in numbers:
            if _same_images(groups[number][0], result):
                groups[number].append(result)
                break
        else:
            numbers.append(len(groups))
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


# Counts of images right in two results at once, by a matrix product of the right matrix with
# itself: in float32 through BLAS (every partial sum an integer below 2**24, so exact), many
# times faster than NumPy's integer product; in float64 (exact to 2**53) on larger sets.
_FLOAT32_EXACT = 2**24


def _both_right(right: np.ndarray) -> np.ndarray:
    """[results, results] int32: images both of two results got right."""
    dtype = np.float32 if right.shape[1] < _FLOAT32_EXACT else np.float64
    matrix = right.astype(dtype)
    return (matrix @ matrix.T).astype(np.int32)


@dataclass(frozen=True)
class _GroupPairs:
    """Every pair (first, second) of one group, in itertools.combinations' order, counted."""

    group: list[PairedResult]
    first: np.ndarray  # result number in the group, per pair
    second: np.ndarray
    both_right: np.ndarray  # per pair
    right_first: np.ndarray
    right_second: np.ndarray
    images: int


def _group_pairs(group: list[PairedResult]) -> _GroupPairs:
    right = np.stack([result.right for result in group]).astype(bool, copy=False)
    # np.triu_indices lists (0, 1), (0, 2), ..., (1, 2), ...: itertools.combinations' order.
    first, second = np.triu_indices(len(group), k=1)
    right_counts = right.sum(axis=1, dtype=np.int64)
    both = _both_right(right)[first, second].astype(np.int64)
    return _GroupPairs(
        group, first, second, both, right_counts[first], right_counts[second], right.shape[1]
    )


def _side_columns(parts: list[_GroupPairs]) -> dict[str, pd.Categorical]:
    """model, variant and method of each pair's two results as categoricals: a code per pair
    into the names of every result, not a string per pair (4.5 million pairs of 1,000 runs)."""
    results = [result for part in parts for result in part.group]
    offsets = np.cumsum([0] + [len(part.group) for part in parts[:-1]])
    columns: dict[str, pd.Categorical] = {}
    for position, column in enumerate(SIDE_COLUMNS):
        codes, names = pd.factorize(pd.Series([result.key[position] for result in results]))
        for side, attribute in (("a", "first"), ("b", "second")):
            per_pair = np.concatenate(
                [
                    codes[offset + getattr(part, attribute)]
                    for offset, part in zip(offsets, parts, strict=True)
                ]
            )
            columns[f"{column}_{side}"] = pd.Categorical.from_codes(per_pair, categories=names)
    return columns


def _image_columns(parts: list[_GroupPairs]) -> dict[str, pd.Series]:
    """IMAGE_COLUMNS, one value per group repeated for its pairs, in the dtype pandas gives
    the groups' values (so the CSV reads as one row per pair would write it)."""
    group_of_pair = np.repeat(np.arange(len(parts)), [len(part.first) for part in parts])
    return {
        column: pd.Series([part.group[0].images[position] for part in parts])
        .take(group_of_pair)
        .reset_index(drop=True)
        for position, column in enumerate(IMAGE_COLUMNS)
    }


def _table(parts: list[_GroupPairs], significance: float) -> pd.DataFrame:
    """PAIRED_COLUMNS built column by column from every group's pairs; each column is one
    array, which the frame takes without a copy."""
    if not parts:  # every part has a pair: groups of one are not parts
        return pd.DataFrame([], columns=list(PAIRED_COLUMNS))
    both = np.concatenate([part.both_right for part in parts])
    right_a = np.concatenate([part.right_first for part in parts])
    right_b = np.concatenate([part.right_second for part in parts])
    images = np.concatenate([np.full(len(part.first), part.images) for part in parts])
    only_a, only_b = right_a - both, right_b - both
    neither = images - both - only_a - only_b
    low, high = newcombe_intervals(both, only_a, only_b, neither)
    mcnemar = mcnemar_exact_many(only_a, only_b)
    adjusted = holm_many(mcnemar)
    columns: dict[str, Any] = _side_columns(parts) | _image_columns(parts)
    columns |= {
        "both_right": both,
        "only_a_right": only_a,
        "only_b_right": only_b,
        "both_wrong": neither,
        "top1_a": right_a / images,
        "top1_b": right_b / images,
        "difference": (only_a - only_b) / images,
        "difference_ci_low": low,
        "difference_ci_high": high,
        "mcnemar_p": mcnemar,
        "holm_p": adjusted,
        "significant": adjusted < significance,
        "significance_level": np.full(len(adjusted), float(significance)),
    }
    # copy=False: a frame from a dict would otherwise copy every column into 2-D blocks, twice
    # the table's memory at its peak.
    return pd.DataFrame(columns, columns=list(PAIRED_COLUMNS), copy=False)


def paired_tests(
    results: Sequence[MethodResult], significance: float = SIGNIFICANCE
) -> PairedTests:
    """Every pair of ``results`` (sorted as score_runs sorts them) on the same images; a pair
    is significant where its Holm-corrected p-value is below ``significance``."""
    return paired_tests_of([paired_result(result) for result in results], significance)


def paired_tests_of(
    results: Sequence[PairedResult], significance: float = SIGNIFICANCE
) -> PairedTests:
    """paired_tests on what each result brings to them (paired_result): per group of results on
    the same images, every pair's counts from one matrix product, its statistics on arrays, and
    Holm's correction across the pairs of every group."""
    groups, reasons = _groups(results)
    parts = [_group_pairs(group) for group in groups if len(group) > 1]
    return PairedTests(_table(parts, significance), reasons, significance)
