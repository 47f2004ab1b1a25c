"""Accuracy, per-class accuracy, confusions and agreement, all computed from stored logits.

Nothing here runs a model: every number comes from the Parquet files written by inference, so
metrics can be recomputed (for instance with another pooling) without touching the GPU.

Scores for the 10 CIFAR-10 classes are pooled from the 1000 ImageNet logits over each class's
mapped ImageNet classes (its "group"). Ties in a ranking go to the lower class index: rankings
use a stable sort of the negated scores, as np.argmax does for top-1.
"""

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cifar_zeroshot.atomic import atomic_path
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.labels import CIFAR10_CLASSES, NUM_IMAGENET_CLASSES
from cifar_zeroshot.logits_io import read_logits, read_timing
from cifar_zeroshot.mapping import imagenet_categories
from cifar_zeroshot.variants import Variant

POOLINGS: tuple[str, ...] = ("max_logit", "mean_prob", "sum_prob")
DEFAULT_POOLING = "max_logit"
TOP_CONFUSIONS = 5  # ImageNet classes listed per CIFAR-10 class
CONFIDENCE = 0.95
# Two-sided 95 % normal quantile, about 1.959964.
_Z = statistics.NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
_MIB = 2**20
CSV_FLOAT_FORMAT = "%.6g"

# Copied from the timing summary as they are.
_SUMMARY_COLUMNS = (
    "images_per_second",
    "end_to_end_images_per_second",
    "ms_per_image",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "batch_size",
    "model_load_seconds",
    "compile_seconds",
)
METRICS_COLUMNS: tuple[str, ...] = (
    "model",
    "variant",
    "weights",
    "dataset",
    "device",
    "device_name",
    "images",
    "pooling",
    "top1",
    "top1_ci_low",
    "top1_ci_high",
    "top5",
    "top5_ci_low",
    "top5_ci_high",
    *(f"top{k}_{p}" for k in (1, 5) for p in POOLINGS),
    "unrestricted_top1",
    "unrestricted_top1_ci_low",
    "unrestricted_top1_ci_high",
    "outside_mapped_share",
    "agreement_with_fp32",
    *_SUMMARY_COLUMNS,
    "torch_peak_allocated_mb",
    "torch_peak_reserved_mb",
    "nvml_process_mb",
    "host_peak_rss_mb",
)
PER_CLASS_COLUMNS = (
    "model",
    "variant",
    "cifar_class",
    "images",
    "correct",
    "accuracy",
    "ci_low",
    "ci_high",
)
CONFUSION_COLUMNS = ("model", "variant", "true_class", "predicted_class", "count")
TOP_CONFUSION_COLUMNS = (
    "model",
    "variant",
    "cifar_class",
    "rank",
    "imagenet_index",
    "imagenet_name",
    "count",
    "share",
)

# metrics column -> timing summary key (bytes), reported in MiB.
_MEMORY_COLUMNS = {
    "torch_peak_allocated_mb": "torch_peak_allocated_bytes",
    "torch_peak_reserved_mb": "torch_peak_reserved_bytes",
    "nvml_process_mb": "nvml_process_bytes",
    "host_peak_rss_mb": "host_peak_rss_bytes",
}
# Facts that must be identical in a run's logits and timing files.
_PAIRED_FACTS = ("model", "variant", "weights", "dataset", "image_count")


# --- scoring -------------------------------------------------------------------------------------


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis in float64, shifted by the row maximum so exp cannot overflow."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


def _check_groups(groups: Sequence[np.ndarray]) -> None:
    for k, group in enumerate(groups):
        if len(group) == 0:
            raise UserError(
                f"CIFAR-10 class {k} has no ImageNet classes to pool from: give it at least one "
                "member in the class mapping."
            )


def _pool_probabilities(
    probabilities: np.ndarray, groups: Sequence[np.ndarray], method: str
) -> np.ndarray:
    reduce = np.mean if method == "mean_prob" else np.sum
    return np.stack([reduce(probabilities[:, np.asarray(g)], axis=1) for g in groups], axis=1)


def pool(
    logits: np.ndarray, groups: Sequence[np.ndarray], method: str = DEFAULT_POOLING
) -> np.ndarray:
    """Scores [N, len(groups)] (float64) for the CIFAR-10 classes from ImageNet logits [N, 1000].

    max_logit: the largest member logit; mean_prob / sum_prob: the mean / sum of the members'
    softmax probabilities, the softmax taken over all 1000 ImageNet classes.
    """
    if method not in POOLINGS:
        raise UserError(f"Unknown pooling {method!r}: use one of {', '.join(POOLINGS)}.")
    _check_groups(groups)
    if method == "max_logit":
        source = np.asarray(logits)
        scores = np.stack([source[:, np.asarray(g)].max(axis=1) for g in groups], axis=1)
        return scores.astype(np.float64)
    return _pool_probabilities(softmax(logits), groups, method)


def pool_all(logits: np.ndarray, groups: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """pool() for every method, with one softmax shared by the probability poolings."""
    probabilities = softmax(logits)
    return {
        "max_logit": pool(logits, groups, "max_logit"),
        "mean_prob": _pool_probabilities(probabilities, groups, "mean_prob"),
        "sum_prob": _pool_probabilities(probabilities, groups, "sum_prob"),
    }


def ranking(scores: np.ndarray, k: int) -> np.ndarray:
    """The k best columns per row, best first; ties go to the lower column (stable sort)."""
    return np.argsort(-np.asarray(scores), axis=1, kind="stable")[:, :k]


def top1(scores: np.ndarray) -> np.ndarray:
    return ranking(scores, 1)[:, 0]


def topk_correct(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per image: whether the true label is among the k best-scored classes."""
    return (ranking(scores, k) == np.asarray(labels)[:, None]).any(axis=1)


def imagenet_to_cifar(groups: Sequence[np.ndarray]) -> np.ndarray:
    """[1000] CIFAR-10 class of each ImageNet class, -1 where it belongs to no group."""
    lookup = np.full(NUM_IMAGENET_CLASSES, -1, dtype=np.int64)
    for k, group in enumerate(groups):
        lookup[np.asarray(group, dtype=np.int64)] = k
    return lookup


def unrestricted(
    logits: np.ndarray, labels: np.ndarray, groups: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per image: (argmax over all 1000 classes is in the true class's group, is in no group)."""
    mapped = imagenet_to_cifar(groups)[np.argmax(logits, axis=1)]
    return mapped == np.asarray(labels), mapped == -1


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score interval (95 %) for a binomial proportion; (nan, nan) when trials == 0.

    With p = k/n and z the normal quantile: centre (2np + z^2) / (2(n + z^2)), half-width
    z / (2(n + z^2)) * sqrt(4np(1-p) + z^2). The bounds are exactly 0 and 1 at k = 0 and k = n.
    """
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    denominator = 2 * (trials + _Z**2)
    centre = (2 * trials * p + _Z**2) / denominator
    half = _Z / denominator * math.sqrt(4 * trials * p * (1 - p) + _Z**2)
    low = 0.0 if successes == 0 else centre - half
    high = 1.0 if successes == trials else centre + half
    return low, high


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """[classes, classes] counts; rows are true classes, columns predicted ones."""
    flat = np.asarray(labels, dtype=np.int64) * classes + np.asarray(predicted, dtype=np.int64)
    return np.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def agreement(predicted: np.ndarray, reference: np.ndarray) -> float:
    """Share of images on which two runs predict the same top-1 class."""
    return float(np.mean(np.asarray(predicted) == np.asarray(reference)))


# --- reading the runs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _RunResult:
    model: str
    variant: str
    row: dict[str, Any]
    image_index: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray  # top-1 with the configured pooling
    per_class: list[dict[str, Any]]
    confusion: np.ndarray
    imagenet_top1: np.ndarray  # unrestricted argmax per image


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _check_paired_facts(logits_path: Path, timing_path: Path, logits: dict, timing: dict) -> None:
    for key in ("model", "variant", "dataset", "image_count"):
        if key not in logits:
            raise UserError(
                f"{logits_path} has no {key!r} in its run facts. Delete it and rerun snakemake."
            )
    for key in _PAIRED_FACTS:
        if logits.get(key) != timing.get(key):
            raise UserError(
                f"{logits_path} and {timing_path} come from different runs ({key} is "
                f"{logits.get(key)!r} vs {timing.get(key)!r}). Delete both and rerun snakemake."
            )
    try:
        Variant.parse(str(logits["variant"]))
    except UserError as error:
        raise UserError(f"{logits_path}: {error}") from None


def _evaluate_run(
    logits_path: Path,
    timing_path: Path,
    groups: Sequence[np.ndarray],
    class_names: Sequence[str],
    pooling: str,
) -> _RunResult:
    table = read_logits(logits_path)
    timing = read_timing(timing_path)
    facts, summary = table.facts, timing.summary
    _check_paired_facts(logits_path, timing_path, facts, timing.facts)
    order = np.argsort(table.image_index, kind="stable")  # align runs image by image
    logits = table.logits[order]
    labels = table.labels[order].astype(np.int64)
    n = len(labels)

    row: dict[str, Any] = {
        "model": str(facts["model"]),
        "variant": str(facts["variant"]),
        "weights": facts.get("weights"),
        "dataset": facts["dataset"],
        "device": facts.get("device"),
        "device_name": facts.get("device_name"),
        "images": n,
        "pooling": pooling,
    }
    for method, scores in pool_all(logits, groups).items():
        for k in (1, 5):
            correct = int(topk_correct(scores, labels, k).sum())
            row[f"top{k}_{method}"] = correct / n if n else math.nan
            if method == pooling:
                row[f"top{k}"] = row[f"top{k}_{method}"]
                row[f"top{k}_ci_low"], row[f"top{k}_ci_high"] = wilson_interval(correct, n)
        if method == pooling:
            predicted = top1(scores)
    hit, outside = unrestricted(logits, labels, groups)
    row["unrestricted_top1"] = float(hit.mean()) if n else math.nan
    low, high = wilson_interval(int(hit.sum()), n)
    row["unrestricted_top1_ci_low"], row["unrestricted_top1_ci_high"] = low, high
    row["outside_mapped_share"] = float(outside.mean()) if n else math.nan
    row["agreement_with_fp32"] = math.nan  # filled in once every run is read
    for column in _SUMMARY_COLUMNS:
        row[column] = _number(summary.get(column))
    for column, key in _MEMORY_COLUMNS.items():
        row[column] = _number(summary.get(key)) / _MIB

    per_class = []
    for k, name in enumerate(class_names):
        members = labels == k
        images, correct = int(members.sum()), int((predicted[members] == k).sum())
        low, high = wilson_interval(correct, images)
        accuracy = correct / images if images else math.nan
        per_class.append(
            {"cifar_class": name, "images": images, "correct": correct, "accuracy": accuracy}
            | {"ci_low": low, "ci_high": high}
        )
    return _RunResult(
        model=row["model"],
        variant=row["variant"],
        row=row,
        image_index=table.image_index[order],
        labels=labels,
        predicted=predicted,
        per_class=per_class,
        confusion=confusion_matrix(labels, predicted, len(class_names)),
        imagenet_top1=np.argmax(logits, axis=1),
    )


def _check_same_images(results: list[_RunResult], paths: list[Path]) -> None:
    first, first_path = results[0], paths[0]
    for result, path in zip(results[1:], paths[1:], strict=True):
        same_dataset = result.row["dataset"] == first.row["dataset"]
        if not same_dataset or len(result.labels) != len(first.labels):
            raise UserError(
                f"{path} ({result.row['dataset']}, {len(result.labels)} images) and {first_path} "
                f"({first.row['dataset']}, {len(first.labels)} images) were run on different test "
                "sets, so their metrics are not comparable. Delete the stale files under "
                "results/logits and results/timing and rerun snakemake, so that every run uses "
                "the current dataset and limit."
            )
        if not (
            np.array_equal(result.image_index, first.image_index)
            and np.array_equal(result.labels, first.labels)
        ):
            raise UserError(
                f"{path} and {first_path} hold different images or labels under the same "
                "dataset and image count. Delete the stale one and rerun snakemake."
            )


# --- tables --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricsTables:
    metrics: pd.DataFrame
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    top_confusions: pd.DataFrame

    def write(
        self,
        metrics_csv: str | Path,
        per_class_csv: str | Path,
        confusion_csv: str | Path,
        top_confusions_csv: str | Path,
    ) -> None:
        write_csv(self.metrics, metrics_csv)
        write_csv(self.per_class, per_class_csv)
        write_csv(self.confusion, confusion_csv)
        write_csv(self.top_confusions, top_confusions_csv)


def _top_confusions(
    result: _RunResult, class_names: Sequence[str], imagenet_names: Sequence[str]
) -> list[dict[str, Any]]:
    rows = []
    for k, name in enumerate(class_names):
        predictions = result.imagenet_top1[result.labels == k]
        counts = np.bincount(predictions, minlength=NUM_IMAGENET_CLASSES)
        # Most frequent first; equal counts by ImageNet index (stable sort).
        best = np.argsort(-counts, kind="stable")[:TOP_CONFUSIONS]
        for rank, index in enumerate(best[counts[best] > 0], start=1):
            rows.append(
                {
                    "model": result.model,
                    "variant": result.variant,
                    "cifar_class": name,
                    "rank": rank,
                    "imagenet_index": int(index),
                    "imagenet_name": imagenet_names[index],
                    "count": int(counts[index]),
                    "share": counts[index] / len(predictions),
                }
            )
    return rows


def _imagenet_name_list(imagenet_names: Mapping[int, str] | Sequence[str]) -> list[str]:
    if isinstance(imagenet_names, Mapping):
        return [str(imagenet_names.get(i, f"imagenet_{i}")) for i in range(NUM_IMAGENET_CLASSES)]
    names = [str(name) for name in imagenet_names]
    if len(names) != NUM_IMAGENET_CLASSES:
        raise ValueError(f"need {NUM_IMAGENET_CLASSES} ImageNet names, got {len(names)}")
    return names


def build_tables(
    runs: Sequence[tuple[str | Path, str | Path]],
    groups: Sequence[np.ndarray],
    imagenet_names: Mapping[int, str] | Sequence[str],
    pooling: str = DEFAULT_POOLING,
    class_names: Sequence[str] = CIFAR10_CLASSES,
) -> MetricsTables:
    """Every metrics table from (logits_path, timing_path) pairs, one pair per model+variant.

    groups: per CIFAR-10 class (label order) the ImageNet indices pooled for it.
    imagenet_names: all 1000 names (a sequence) or index -> name (missing: "imagenet_<i>").
    Rows are sorted by model, variant (and class), so equal inputs give equal tables.
    """
    if pooling not in POOLINGS:
        raise UserError(f"Unknown pooling {pooling!r}: set config pooling to one of {POOLINGS}.")
    if not runs:
        raise UserError("No inference runs to evaluate: list at least one model in config models.")
    if len(groups) != len(class_names):
        raise UserError(
            f"The class mapping has {len(groups)} groups but CIFAR-10 has {len(class_names)} "
            "classes: rebuild results/class_mapping.csv."
        )
    names = _imagenet_name_list(imagenet_names)
    results, paths, seen = [], [], {}
    for logits_path, timing_path in runs:
        result = _evaluate_run(Path(logits_path), Path(timing_path), groups, class_names, pooling)
        key = (result.model, result.variant)
        if key in seen:
            raise UserError(
                f"{logits_path} and {seen[key]} are both {result.model} {result.variant}: "
                "list each model and variant once."
            )
        seen[key] = logits_path
        results.append(result)
        paths.append(Path(logits_path))
    _check_same_images(results, paths)

    by_key = {(r.model, r.variant): r for r in results}
    for result in results:
        reference = Variant.parse(result.variant).reference.name
        baseline = by_key.get((result.model, reference))
        # The reference itself stays empty: agreeing with itself says nothing.
        if baseline is not None and reference != result.variant:
            result.row["agreement_with_fp32"] = agreement(result.predicted, baseline.predicted)
    results.sort(key=lambda r: (r.model, r.variant))

    metrics = pd.DataFrame([r.row for r in results], columns=list(METRICS_COLUMNS))
    per_class = pd.DataFrame(
        [{"model": r.model, "variant": r.variant} | row for r in results for row in r.per_class],
        columns=list(PER_CLASS_COLUMNS),
    )
    confusion = pd.DataFrame(
        [
            (r.model, r.variant, class_names[t], class_names[p], int(r.confusion[t, p]))
            for r in results
            for t in range(len(class_names))
            for p in range(len(class_names))
        ],
        columns=list(CONFUSION_COLUMNS),
    )
    top_confusions = pd.DataFrame(
        [row for r in results for row in _top_confusions(r, class_names, names)],
        columns=list(TOP_CONFUSION_COLUMNS),
    )
    return MetricsTables(metrics, per_class, confusion, top_confusions)


# --- files ---------------------------------------------------------------------------------------


def write_text_atomic(text: str, path: str | Path) -> None:
    """Write text via a temp file in the same folder, so a reader never sees half a file."""
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """CSV with fixed float formatting and empty cells for missing values: reruns are identical."""
    text = frame.to_csv(index=False, float_format=CSV_FLOAT_FORMAT, na_rep="", lineterminator="\n")
    write_text_atomic(text, path)


def read_mapping_csv(path: str | Path) -> tuple[list[np.ndarray], dict[int, str]]:
    """Groups (per CIFAR-10 class, label order) and index -> name from results/class_mapping.csv."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist. Run snakemake to build the class mapping.")
    frame = pd.read_csv(path)
    missing = {"cifar_class", "imagenet_index", "imagenet_name"} - set(frame.columns)
    if missing:
        raise UserError(
            f"{path} lacks columns {', '.join(sorted(missing))}. Delete it and rerun snakemake."
        )
    unknown = sorted(set(frame["cifar_class"]) - set(CIFAR10_CLASSES))
    if unknown:
        raise UserError(
            f"{path} names unknown CIFAR-10 classes {unknown}. Delete it and rerun snakemake."
        )
    index = frame["imagenet_index"].to_numpy()
    if len(index) and (index.min() < 0 or index.max() >= NUM_IMAGENET_CLASSES):
        raise UserError(f"{path} has ImageNet indices outside 0..999. Delete it and rerun.")
    if frame["imagenet_index"].duplicated().any():
        raise UserError(f"{path} lists an ImageNet class twice. Delete it and rerun snakemake.")
    groups = []
    for name in CIFAR10_CLASSES:
        members = np.sort(frame.loc[frame["cifar_class"] == name, "imagenet_index"].to_numpy())
        if len(members) == 0:
            raise UserError(
                f"{path} has no ImageNet classes for {name!r}: give it at least one member in "
                "config/class_mapping.yaml and rerun snakemake."
            )
        groups.append(members.astype(np.int64))
    names = dict(
        zip(frame["imagenet_index"].astype(int), frame["imagenet_name"].astype(str), strict=True)
    )
    return groups, names


def all_imagenet_names(mapped_names: Mapping[int, str]) -> list[str]:
    """All 1000 ImageNet-1k category names (torchvision's), mapped names taking precedence."""
    try:
        categories = imagenet_categories()
    except Exception:  # the names are decoration; fall back rather than fail the metrics
        categories = [f"imagenet_{i}" for i in range(NUM_IMAGENET_CLASSES)]
    for index, name in mapped_names.items():
        categories[index] = name
    return categories
