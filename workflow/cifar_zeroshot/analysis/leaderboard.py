"""results/leaderboard.csv: every test set's results ranked by top-1, per scoring method, with
their significance groups as letters.

One ranking per test set and method. A set scored as a whole (CIFAR-10, CIFAR-10.1, a user's
set) ranks each result's row; CIFAR-10-C ranks each result's mean top-1 over its corruption and
severity blocks, the one number a reader compares models by there (its interval counts one
block's images, as the robustness table's does: the blocks hold the same source images). The
letters (analysis/letters.py) come from the paired tests' Holm-corrected significance
(results/paired_tests.csv): results that share a letter do not differ significantly. CIFAR-10-C's
mean gets none: its pairs are tested block by block, and no test pools blocks of the same images
(each block's pairs are in results/paired_tests.csv). Two results of one ranking never paired
(scored on other images) count as not shown to differ.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cifar_zeroshot.analysis.letters import compact_letters
from cifar_zeroshot.analysis.robustness import shifted_accuracy
from cifar_zeroshot.models.architecture_family import architecture_family

RESULT_KEY = ["model", "variant"]  # one result of a ranking (its test set and method fixed)

# What the device needed, most complete figure first; host RSS only where no device figure
# exists: metrics.csv column -> what it measured.
MEMORY_PREFERENCE: tuple[tuple[str, str], ...] = (
    ("nvml_process_mb", "GPU, NVML process"),
    ("torch_peak_reserved_mb", "GPU, torch reserved"),
    ("torch_peak_allocated_mb", "GPU, torch allocated"),
    ("host_peak_rss_mb", "host RSS"),
)

LEADERBOARD_COLUMNS: tuple[str, ...] = (
    "test_set",
    "test_set_title",
    "method",
    "rank",  # 1 is the best top-1; equal top-1, equal rank
    "model",
    "family",  # the architecture family read from the model's name (models/architecture_family)
    "variant",
    "weights",
    "images",  # per block on a set scored in blocks
    "blocks",  # how many blocks the top-1 is the mean of; 0 for a set scored as a whole
    "top1",
    "top1_ci_low",
    "top1_ci_high",
    "balanced_accuracy",
    "images_per_second",
    "ms_per_image",
    "peak_memory_mb",
    "peak_memory_source",  # which of MEMORY_PREFERENCE's figures peak_memory_mb is
    "parameters",
    "gflops_per_image",
    "published_imagenet_top1",  # the weights' published ImageNet top-1, where known
    "letters",  # empty where no paired test covers the ranking (CIFAR-10-C's mean)
)
# Copied from the result's (first) metrics row: the run's, equal over a set's blocks.
_RUN_COLUMNS = (
    "test_set_title",
    "weights",
    "images_per_second",
    "ms_per_image",
    "parameters",
    "gflops_per_image",
)


def _blank(column: pd.Series) -> pd.Series:
    """True where a text column (corruption, severity) is empty, as in a set scored whole."""
    return column.isna() | (column.astype(str) == "")


def peak_memory(row: Mapping[str, object]) -> tuple[float, str] | None:
    """The GPU's peak where one was measured, else the host's peak RSS (MiB, what it is)."""
    for column, label in MEMORY_PREFERENCE:
        value = row.get(column)
        if value is not None and not pd.isna(value):  # type: ignore[call-overload]
            return float(value), label  # type: ignore[arg-type]
    return None


def _results(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per result of one test set and method: its row, or its mean over blocks."""
    if _blank(rows["corruption"]).all():
        return rows.assign(blocks=0).reset_index(drop=True)
    means = []
    for _, group in rows.groupby(RESULT_KEY, sort=False):
        accuracy, low, high = shifted_accuracy(group)
        first = group.iloc[0]
        means.append(
            {column: first.get(column) for column in (*RESULT_KEY, *_RUN_COLUMNS)}
            | {
                "images": int(group["images"].min()),
                "blocks": len(group),
                "top1": accuracy,
                "top1_ci_low": low,
                "top1_ci_high": high,
                "balanced_accuracy": group["balanced_accuracy"].mean(),
                **{column: first.get(column) for column, _ in MEMORY_PREFERENCE},
            }
        )
    return pd.DataFrame(means)


def ranking_pairs(paired: pd.DataFrame, test_set: str, method: str) -> pd.DataFrame:
    """The rows of the paired tests' table within one ranking: both results scored by
    ``method`` on ``test_set`` as a whole (no CIFAR-10-C block)."""
    if paired.empty:
        return paired
    within = (
        (paired["test_set"] == test_set)
        & _blank(paired["corruption"])
        & (paired["method_a"] == method)
        & (paired["method_b"] == method)
    )
    return paired[within]


def significance_matrix(
    ranked: pd.DataFrame, pairs: pd.DataFrame, key: Sequence[str] = RESULT_KEY
) -> np.ndarray:
    """[results, results] bool in ``ranked``'s order: which pairs differ significantly. A result
    is its ``key`` columns (model and variant within one ranking; with the method where several
    methods are ranked together); pairs of results not in ``ranked`` are ignored."""
    index = pd.MultiIndex.from_frame(ranked[list(key)].astype(str))
    significant = np.zeros((len(ranked), len(ranked)), dtype=bool)
    if pairs.empty:
        return significant
    rows = pairs[pairs["significant"].astype(bool)]

    def side(suffix: str) -> np.ndarray:
        columns = [rows[f"{column}_{suffix}"].astype(str) for column in key]
        return index.get_indexer(pd.MultiIndex.from_arrays(columns))

    first, second = side("a"), side("b")
    known = (first >= 0) & (second >= 0)
    significant[first[known], second[known]] = True
    significant[second[known], first[known]] = True
    return significant


def _ranking(
    rows: pd.DataFrame, paired: pd.DataFrame, published_top1: Mapping[str, float | None]
) -> pd.DataFrame:
    """One test set's and method's results, best top-1 first, ranked and lettered."""
    results = _results(rows)
    ranked = results.sort_values("top1", ascending=False, kind="stable").reset_index(drop=True)
    ranked["rank"] = (
        ranked["top1"].rank(method="min", ascending=False, na_option="bottom").astype(int)
    )
    memory = [peak_memory(row) for _, row in ranked.iterrows()]
    ranked["peak_memory_mb"] = [np.nan if m is None else m[0] for m in memory]
    ranked["peak_memory_source"] = ["" if m is None else m[1] for m in memory]
    ranked["family"] = [architecture_family(model) for model in ranked["model"]]
    ranked["published_imagenet_top1"] = [
        np.nan if published_top1.get(model) is None else float(published_top1[model])  # type: ignore[arg-type]
        for model in ranked["model"]
    ]
    if ranked["blocks"].eq(0).all():
        test_set, method = rows["test_set"].iloc[0], rows["method"].iloc[0]
        pairs = ranking_pairs(paired, test_set, method)
        ranked["letters"] = compact_letters(significance_matrix(ranked, pairs))
    else:
        ranked["letters"] = ""
    return ranked


def leaderboard_table(
    metrics: pd.DataFrame,
    paired: pd.DataFrame,
    published_top1: Mapping[str, float | None] | None = None,
) -> pd.DataFrame:
    """LEADERBOARD_COLUMNS: one ranking per test set and method (in metrics.csv's order of
    test sets, and of methods within each)."""
    if metrics.empty:
        return pd.DataFrame(columns=list(LEADERBOARD_COLUMNS))
    rankings = [
        _ranking(rows, paired, published_top1 or {}).assign(test_set=test_set, method=method)
        for (test_set, method), rows in metrics.groupby(["test_set", "method"], sort=False)
    ]
    return pd.concat(rankings, ignore_index=True).reindex(columns=list(LEADERBOARD_COLUMNS))
