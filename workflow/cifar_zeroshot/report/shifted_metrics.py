"""metrics.csv rows for the shifted test sets: one per run and method on CIFAR-10.1, and one per
run, method, corruption and severity on CIFAR-10-C, with the same intervals and timing columns
as CIFAR-10's rows.

Every run file is verified as CIFAR-10's are (verification.run_checks), against its own test set:
the image set data/<dataset>/<test_set>/test_set.npz after the limit the job was given. The
class mapping and CLIP prompts score each set's logits or embeddings. The linear probe is fitted
on CIFAR-10's training features and its file holds CIFAR-10's test scores only, so it scores no
shifted set yet (see docs/robustness.md).
"""

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cifar_zeroshot.core.choices import CIFAR10_1, CIFAR10_C, REFERENCE_TEST_SET
from cifar_zeroshot.data.image_set import ImageSet, load_image_set
from cifar_zeroshot.data.shifted_selection import block_of_rows, read_selection_table
from cifar_zeroshot.data.test_set import first_images, images_digest
from cifar_zeroshot.data.test_set_checks import ConfiguredTestSet
from cifar_zeroshot.methods.interface import ScoringMethod
from cifar_zeroshot.methods.scoring import top1, topk_correct
from cifar_zeroshot.report.evaluation import TOP_K, MethodResult, StoredRun, read_runs
from cifar_zeroshot.report.metrics_tables import METRICS_COLUMNS, MetricsTables, metrics_row
from cifar_zeroshot.report.verification import run_checks

log = logging.getLogger(__name__)

# The probe's file holds its scores of CIFAR-10's test images only; every other method scores a
# run from its own stored outputs.
NOT_ON_SHIFTED_SETS = ("linear_probe",)


def load_shifted_test_set(path: str | Path, limit: int | None) -> ConfiguredTestSet:
    """The shifted image set a run with ``limit`` scores (its file is checked as it loads)."""
    path = Path(path)
    images, labels = first_images(*load_image_set(path, ImageSet.TEST), limit, path)
    return ConfiguredTestSet(path, labels, images_digest(images, labels))


def _result(run: StoredRun, method: str, scores: np.ndarray, rows: np.ndarray, scored: Any):
    labels = run.outputs.labels[rows]
    return MethodResult(
        run=run,
        method=method,
        settings=dict(scored.settings),
        figures=dict(scored.figures),
        predicted=top1(scores[rows]),
        correct={k: int(topk_correct(scores[rows], labels, k).sum()) for k in TOP_K},
        agreement_with_fp32=float("nan"),
    )


def shifted_rows(
    test_set: str,
    stored: Sequence[StoredRun],
    methods: Sequence[ScoringMethod],
    blocks: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """Rows of every run scored by every shifted method; per block of ``blocks`` (CIFAR-10-C)."""
    rows = []
    for run in stored:
        everything = np.arange(len(run.outputs.labels))
        if blocks is None:
            parts = [("", None, everything)]
        else:
            corruption, severity = block_of_rows(blocks, run.outputs.image_index)
            parts = [
                (c, int(s), everything[(corruption == c) & (severity == s)])
                for c, s in zip(blocks["corruption"], blocks["severity"], strict=True)
            ]
        for method in methods:
            if method.name in NOT_ON_SHIFTED_SETS or not method.applies_to(run.outputs):
                continue
            scored = method.score(run.outputs)
            for corruption_name, severity_value, part in parts:
                row = metrics_row(_result(run, method.name, scored.scores, part, scored))
                row.update(test_set=test_set, corruption=corruption_name, severity=severity_value)
                rows.append(row)
    return rows


def shifted_metrics(
    test_set: str,
    images_path: str | Path,
    runs: Sequence[tuple[str | Path, str | Path]],
    requested: Sequence[Mapping[str, Any]],
    limit: int | None,
    methods: Sequence[ScoringMethod],
    blocks_path: str | Path | None = None,
) -> pd.DataFrame:
    """metrics.csv rows of one shifted test set's runs, each verified before it is scored."""
    configured = load_shifted_test_set(images_path, limit)
    stored = read_runs(runs, run_checks(list(runs), list(requested), configured))
    blocks = None if blocks_path is None else read_selection_table(blocks_path)
    rows = shifted_rows(test_set, stored, methods, blocks)
    log.info("scored %d runs on %s: %d rows", len(stored), test_set, len(rows))
    return pd.DataFrame(rows, columns=list(METRICS_COLUMNS))


def shifted_metrics_tables(
    tables: MetricsTables,
    methods: Sequence[ScoringMethod],
    images: Mapping[str, str | Path],
    runs: Sequence[tuple[str, str | Path, str | Path]],
    requested: Sequence[Mapping[str, Any]],
    shift_limit: int | None,
    blocks_path: str | Path | None,
) -> MetricsTables:
    """CIFAR-10's tables with each shifted set's metrics.csv rows after CIFAR-10's.

    ``images``: test set -> its image set; ``runs``: (test set, outputs, timing) per shifted
    run, with ``requested`` (verification.RequestedRun params) in the same order.
    """
    frames = [tables.metrics]
    for test_set, path in images.items():
        ours = [number for number, run in enumerate(runs) if run[0] == test_set]
        frames.append(
            shifted_metrics(
                test_set,
                path,
                [runs[number][1:] for number in ours],
                [requested[number] for number in ours],
                shift_limit if test_set == CIFAR10_1 else None,
                methods,
                blocks_path if test_set == CIFAR10_C else None,
            )
        )
    if len(frames) == 1:
        return tables
    return dataclasses.replace(tables, metrics=pd.concat(frames, ignore_index=True))


def reference_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    """CIFAR-10's rows of metrics.csv: what the per-run plots, tables and summary describe."""
    if "test_set" not in metrics.columns:
        return metrics
    return metrics[
        metrics["test_set"].isin([REFERENCE_TEST_SET]) | metrics["test_set"].isna()
    ].reset_index(drop=True)
