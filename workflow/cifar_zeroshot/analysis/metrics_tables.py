"""The metrics tables (metrics, per_class, confusion, top_confusions) built from evaluated runs.

metrics, per_class and confusion have one block of rows per model, variant and scoring method;
columns a method does not fill stay empty. top_confusions describes the runs' own ImageNet
predictions (the unrestricted argmax over all 1000 classes), which no method changes, so it has
one block per model and variant.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cifar_zeroshot.analysis.evaluation import (
    TOP_K,
    MethodResult,
    RunRecord,
    StoredRun,
    read_runs,
    score_runs,
)
from cifar_zeroshot.core.choices import REFERENCE_TEST_SET
from cifar_zeroshot.core.csv_output import write_csv
from cifar_zeroshot.core.labels import CIFAR10_CLASSES, NUM_IMAGENET_CLASSES
from cifar_zeroshot.methods.interface import ScoringMethod
from cifar_zeroshot.methods.registry import FIGURE_COLUMNS, SETTING_COLUMNS
from cifar_zeroshot.methods.scoring import (
    MIB,
    balanced_accuracy,
    class_recalls,
    confusion_matrix,
    share,
    table_figure,
    wilson_interval,
    worst_class,
)
from cifar_zeroshot.records.timing import images_per_joule

log = logging.getLogger(__name__)

# Of each method's 10-class probabilities (methods/calibration.py).
CALIBRATION_COLUMNS = ("ece", "nll", "brier")

TOP_CONFUSIONS = 5  # ImageNet classes listed per CIFAR-10 class

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
    "gpu_energy_joules",  # over the timed batches; empty on the CPU or where NVML cannot say
)
# metrics column -> timing summary field (bytes), reported in MiB.
_MEMORY_COLUMNS = {
    "torch_peak_allocated_mb": "torch_peak_allocated_bytes",
    "torch_peak_reserved_mb": "torch_peak_reserved_bytes",
    "nvml_process_mb": "nvml_process_bytes",
    "host_peak_rss_mb": "host_peak_rss_bytes",
}
_ACCURACY_COLUMNS = tuple(
    column for k in TOP_K for column in (f"top{k}", f"top{k}_ci_low", f"top{k}_ci_high")
)
# Per-class honesty of the top-1: the mean recall over classes, and the class with the lowest
# (a method that gives up on a class shows it here, whatever its top-1).
PER_CLASS_SUMMARY_COLUMNS = ("balanced_accuracy", "worst_class_recall", "worst_class")
# Which images a row describes (a result's scope): the test set, and for a set in blocks
# (CIFAR-10-C) the corruption and severity; empty elsewhere. A column of every per-run table.
SCOPE_COLUMNS: tuple[str, ...] = ("test_set", "corruption", "severity")
METRICS_COLUMNS: tuple[str, ...] = (
    "model",
    "variant",
    "method",
    "weights",
    "dataset",
    # Which test set the row scores (cifar10, cifar10.1, cifar10-c), and for CIFAR-10-C which
    # corruption at which severity (empty elsewhere): analysis/test_set_results.py.
    "test_set",
    "corruption",
    "severity",
    "device",
    "device_name",
    "images",
    *SETTING_COLUMNS,
    *_ACCURACY_COLUMNS,
    *PER_CLASS_SUMMARY_COLUMNS,
    *FIGURE_COLUMNS,
    "agreement_with_fp32",
    *CALIBRATION_COLUMNS,
    *_SUMMARY_COLUMNS,
    "images_per_joule",
    *_MEMORY_COLUMNS,
    # The model's size and forward compute per image (run facts; a multiply-add is 2 FLOPs).
    "parameters",
    "gflops_per_image",
    # What the row was made from, in words: the images ("synthetic images", "CIFAR-10", a user
    # set's title) and the weights ("untrained", a weights file's title): figures say these.
    "test_set_title",
    "weights_title",
)
PER_CLASS_COLUMNS = (
    *SCOPE_COLUMNS,
    "model",
    "variant",
    "method",
    "cifar_class",
    "images",
    "correct",
    "accuracy",
    "ci_low",
    "ci_high",
)
CONFUSION_COLUMNS = (
    *SCOPE_COLUMNS,
    "model",
    "variant",
    "method",
    "true_class",
    "predicted_class",
    "count",
)
TOP_CONFUSION_COLUMNS = (
    *SCOPE_COLUMNS,
    "model",
    "variant",
    "cifar_class",
    "rank",
    "imagenet_index",
    "imagenet_name",
    "count",
    "share",
)


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


def read_metrics_csv(path: str | Path) -> pd.DataFrame:
    """results/metrics.csv as the metrics job built it: the methods' settings stay text (a CSV
    reader would make "18" templates 18.0), the identifying columns too."""
    text_columns = ("model", "variant", "method", "weights", "dataset", *SETTING_COLUMNS)
    text_columns += ("test_set", "corruption", "worst_class")
    return pd.read_csv(path, dtype={column: str for column in text_columns})


def read_reference_rows(path: str | Path) -> pd.DataFrame:
    """CIFAR-10's rows of a per-run CSV other than metrics.csv (per_class, confusion,
    reliability): the identifying columns read as text."""
    text = {column: str for column in ("test_set", "corruption", "model", "variant", "method")}
    return reference_rows(pd.read_csv(path, dtype=text))


def metrics_row(result: MethodResult) -> dict[str, Any]:
    """One row of metrics.csv; the columns of other methods are left out (empty)."""
    facts, summary, n = result.run.facts, result.run.summary, len(result.predicted)
    row: dict[str, Any] = {
        "model": facts.model,
        "variant": facts.variant,
        "method": result.method,
        "weights": facts.weights,
        "dataset": facts.dataset,
        "test_set": result.test_set,
        "corruption": result.corruption,
        "severity": result.severity,
        "device": facts.device,
        "device_name": facts.device_name,
        "images": n,
        **result.settings,
    }
    for k, correct in result.correct.items():
        row[f"top{k}"] = share(correct, n)
        row[f"top{k}_ci_low"], row[f"top{k}_ci_high"] = wilson_interval(correct, n)
    recalls = class_recalls(result.run.labels, result.predicted, len(CIFAR10_CLASSES))
    worst, worst_recall = worst_class(recalls)
    row["balanced_accuracy"] = balanced_accuracy(recalls)
    row["worst_class_recall"] = worst_recall
    row["worst_class"] = CIFAR10_CLASSES[worst] if worst >= 0 else None
    row.update(result.figures)
    row["agreement_with_fp32"] = result.agreement_with_fp32
    row.update(result.calibration)
    for column in _SUMMARY_COLUMNS:
        row[column] = table_figure(getattr(summary, column))
    row["images_per_joule"] = table_figure(
        images_per_joule(summary.timed_images, summary.gpu_energy_joules)
    )
    for column, field in _MEMORY_COLUMNS.items():
        row[column] = table_figure(getattr(summary, field), MIB)
    row["parameters"] = facts.parameters  # None: an empty cell
    row["gflops_per_image"] = table_figure(facts.gflops_per_image)
    return row


def per_class_rows(result: MethodResult) -> list[dict[str, Any]]:
    """Top-1 accuracy of each CIFAR-10 class with its Wilson interval."""
    labels = result.run.labels
    rows = []
    for k, name in enumerate(CIFAR10_CLASSES):
        members = labels == k
        images, correct = int(members.sum()), int((result.predicted[members] == k).sum())
        low, high = wilson_interval(correct, images)
        rows.append(
            dict(zip((*SCOPE_COLUMNS, "model", "variant", "method"), result.key, strict=True))
            | {"cifar_class": name}
            | {"images": images, "correct": correct, "accuracy": share(correct, images)}
            | {"ci_low": low, "ci_high": high}
        )
    return rows


def confusion_rows(result: MethodResult) -> list[tuple[str, str, str, str, str, int]]:
    """All 10 x 10 cells (zeros too): true class, predicted class, count."""
    counts = confusion_matrix(result.run.labels, result.predicted, len(CIFAR10_CLASSES))
    return [
        (*result.key, true, predicted, int(counts[t, p]))
        for t, true in enumerate(CIFAR10_CLASSES)
        for p, predicted in enumerate(CIFAR10_CLASSES)
    ]


def top_confusion_rows(
    scope: tuple[str, str, int | None], run: RunRecord, imagenet_names: Sequence[str]
) -> list[dict[str, Any]]:
    """Per CIFAR-10 class: the ImageNet classes its images are most often predicted as."""
    if run.imagenet_top1 is None:  # a CLIP run predicts no ImageNet classes
        return []
    rows = []
    for k, name in enumerate(CIFAR10_CLASSES):
        predictions = run.imagenet_top1[run.labels == k]
        counts = np.bincount(predictions, minlength=NUM_IMAGENET_CLASSES)
        # Most frequent first; equal counts by ImageNet index (stable sort).
        best = np.argsort(-counts, kind="stable")[:TOP_CONFUSIONS]
        for rank, index in enumerate(best[counts[best] > 0], start=1):
            rows.append(
                dict(zip(SCOPE_COLUMNS, scope, strict=True))
                | {
                    "model": run.facts.model,
                    "variant": run.facts.variant,
                    "cifar_class": name,
                    "rank": rank,
                    "imagenet_index": int(index),
                    "imagenet_name": imagenet_names[index],
                    "count": int(counts[index]),
                    "share": counts[index] / len(predictions),
                }
            )
    return rows


def imagenet_name_list(imagenet_names: Mapping[int, str] | Sequence[str]) -> list[str]:
    if isinstance(imagenet_names, Mapping):
        return [str(imagenet_names.get(i, f"imagenet_{i}")) for i in range(NUM_IMAGENET_CLASSES)]
    names = [str(name) for name in imagenet_names]
    if len(names) != NUM_IMAGENET_CLASSES:
        raise ValueError(f"need {NUM_IMAGENET_CLASSES} ImageNet names, got {len(names)}")
    return names


def tables_from_results(
    results: Sequence[MethodResult], imagenet_names: Sequence[str]
) -> MetricsTables:
    """The four tables; ``results`` in scope order, each scope's sorted by model, variant and
    method (as score_runs gives)."""
    # Each run of each scope once, in result order.
    runs = list({(r.scope, id(r.run)): (r.scope, r.run) for r in results}.values())
    # Whole numbers, empty where there are none (as float, %.6g would round them).
    whole = {"severity": "Int64"}
    tables = MetricsTables(
        metrics=pd.DataFrame([metrics_row(r) for r in results], columns=list(METRICS_COLUMNS))
        .astype({"parameters": "Int64"})
        .astype(whole),
        per_class=pd.DataFrame(
            [row for r in results for row in per_class_rows(r)], columns=list(PER_CLASS_COLUMNS)
        ).astype(whole),
        confusion=pd.DataFrame(
            [row for r in results for row in confusion_rows(r)], columns=list(CONFUSION_COLUMNS)
        ).astype(whole),
        top_confusions=pd.DataFrame(
            [row for scope, run in runs for row in top_confusion_rows(scope, run, imagenet_names)],
            columns=list(TOP_CONFUSION_COLUMNS),
        ).astype(whole),
    )
    log.info("computed metrics for %d model/variant/method combinations", len(results))
    return tables


def tables_for_runs(
    stored: Sequence[StoredRun],
    methods: Sequence[ScoringMethod],
    imagenet_names: Mapping[int, str] | Sequence[str],
) -> MetricsTables:
    """Every metrics table from runs already read (and verified) by evaluation.read_runs.

    imagenet_names: all 1000 names (a sequence) or index -> name (missing: "imagenet_<i>").
    Rows are sorted by model, variant, method (and class), so equal inputs give equal tables.
    """
    names = imagenet_name_list(imagenet_names)
    return tables_from_results(score_runs(stored, methods), names)


def build_tables(
    runs: Sequence[tuple[str | Path, str | Path]],
    methods: Sequence[ScoringMethod],
    imagenet_names: Mapping[int, str] | Sequence[str],
) -> MetricsTables:
    """Every metrics table from (outputs_path, timing_path) pairs, one pair per model+variant."""
    return tables_for_runs(read_runs(runs), methods, imagenet_names)


def reference_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a per-run table (metrics.csv, per_class.csv, ...) that the per-run plots,
    tables and summary describe: CIFAR-10's, or without CIFAR-10 (the user's own sets alone)
    the first test set's in the table's order, which is the configuration's."""
    if "test_set" not in table.columns or table.empty:
        return table
    names = table["test_set"].fillna(REFERENCE_TEST_SET)
    described = REFERENCE_TEST_SET if (names == REFERENCE_TEST_SET).any() else names.iloc[0]
    return table[names == described].reset_index(drop=True)
