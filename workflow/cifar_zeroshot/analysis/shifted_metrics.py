"""metrics.csv rows for the shifted test sets: one per run and method on CIFAR-10.1, and one per
run, method, corruption and severity on CIFAR-10-C, with the same intervals, calibration,
agreement and timing columns as CIFAR-10's rows; and their results, for the paired tests.

Every run file is verified as CIFAR-10's are (verification.run_checks), against its own test set:
the image set data/<dataset>/<test_set>/test_set.npz after the limit the job was given. The
class mapping and CLIP prompts score each set's logits or embeddings; the linear probe, fitted on
CIFAR-10's training features only, scores each set from its own probe file
(results/probe/<test_set>/..., the stored probe applied to that set's features), checked as
CIFAR-10's is. Each test set therefore has its own configured methods.
"""

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cifar_zeroshot.analysis.evaluation import (
    MethodResult,
    StoredRun,
    read_runs,
    score_run,
    with_agreement,
)
from cifar_zeroshot.analysis.metrics_tables import MetricsTables, metrics_row
from cifar_zeroshot.analysis.verification import run_checks
from cifar_zeroshot.core.choices import CIFAR10_1, CIFAR10_C, REFERENCE_TEST_SET
from cifar_zeroshot.data.image_set import ImageSet, load_image_set
from cifar_zeroshot.data.shifted_selection import block_of_rows, read_selection_table
from cifar_zeroshot.data.test_set import first_images, images_digest
from cifar_zeroshot.data.test_set_checks import ConfiguredTestSet
from cifar_zeroshot.methods.calibration import ECE_BINS
from cifar_zeroshot.methods.interface import MethodInputs, ScoringMethod
from cifar_zeroshot.methods.registry import configured_methods

log = logging.getLogger(__name__)


def methods_per_shifted_set(
    inputs: MethodInputs,
    test_sets: Sequence[str],
    probe_files: Sequence[tuple[tuple[str, str, str], str | Path]],
) -> dict[str, list[ScoringMethod]]:
    """Test set -> the configured methods that score it: CIFAR-10's ``inputs`` with that set's
    probe files (``probe_files``: (test set, model, variant) -> the CIFAR-10 probe applied to the
    set's features), each file checked as CIFAR-10's probe files are (methods.interface)."""
    return {
        test_set: configured_methods(
            dataclasses.replace(
                inputs,
                probe_files={
                    (model, variant): Path(path)
                    for (probed_set, model, variant), path in probe_files
                    if probed_set == test_set
                },
            )
        )
        for test_set in test_sets
    }


def load_shifted_test_set(path: str | Path, limit: int | None) -> ConfiguredTestSet:
    """The shifted image set a run with ``limit`` scores (its file is checked as it loads)."""
    path = Path(path)
    images, labels = first_images(*load_image_set(path, ImageSet.TEST), limit, path)
    return ConfiguredTestSet(path, labels, images_digest(images, labels))


def _block_run(run: StoredRun, rows: np.ndarray) -> StoredRun:
    """``run`` restricted to ``rows`` (one CIFAR-10-C block), so every figure is the block's."""
    outputs = run.outputs
    sliced = dataclasses.replace(
        outputs,
        image_index=outputs.image_index[rows],
        labels=outputs.labels[rows],
        logits=None if outputs.logits is None else outputs.logits[rows],
        embeddings=None if outputs.embeddings is None else outputs.embeddings[rows],
    )
    return dataclasses.replace(run, outputs=sliced)


def _blocks(run: StoredRun, blocks: pd.DataFrame | None) -> list[tuple[str, int | None, StoredRun]]:
    """(corruption, severity, the run's rows of that block); the whole run without blocks."""
    if blocks is None:
        return [("", None, run)]
    corruption, severity = block_of_rows(blocks, run.outputs.image_index)
    return [
        (c, int(s), _block_run(run, np.flatnonzero((corruption == c) & (severity == s))))
        for c, s in zip(blocks["corruption"], blocks["severity"], strict=True)
    ]


def shifted_results(
    test_set: str,
    stored: Sequence[StoredRun],
    methods: Sequence[ScoringMethod],
    blocks: pd.DataFrame | None = None,
    bins: int = ECE_BINS,
) -> list[MethodResult]:
    """Every run scored by every shifted method, per block of ``blocks`` (CIFAR-10-C), each
    block's results with their agreement with the fp32 run on the same block (calibration over
    ``bins`` bins)."""
    by_block: dict[tuple[str, int | None], list[MethodResult]] = {}
    for run in stored:
        for corruption, severity, part in _blocks(run, blocks):
            by_block.setdefault((corruption, severity), []).extend(
                dataclasses.replace(
                    score_run(part, method, bins),
                    test_set=test_set,
                    corruption=corruption,
                    severity=severity,
                )
                for method in methods
                if method.applies_to(part.outputs)
            )
    return [
        result
        for results in by_block.values()
        for result in sorted(with_agreement(results), key=lambda result: result.key)
    ]


def shifted_set_results(
    test_set: str,
    images_path: str | Path,
    runs: Sequence[tuple[str | Path, str | Path]],
    requested: Sequence[Mapping[str, Any]],
    limit: int | None,
    methods: Sequence[ScoringMethod],
    blocks_path: str | Path | None = None,
    bins: int = ECE_BINS,
) -> list[MethodResult]:
    """The results of one shifted test set's runs, each verified before it is scored."""
    configured = load_shifted_test_set(images_path, limit)
    stored = read_runs(runs, run_checks(list(runs), list(requested), configured))
    blocks = None if blocks_path is None else read_selection_table(blocks_path)
    results = shifted_results(test_set, stored, methods, blocks, bins)
    log.info("scored %d runs on %s: %d results", len(stored), test_set, len(results))
    return results


def shifted_metrics_tables(
    tables: MetricsTables,
    methods: Mapping[str, Sequence[ScoringMethod]],
    images: Mapping[str, str | Path],
    runs: Sequence[tuple[str, str | Path, str | Path]],
    requested: Sequence[Mapping[str, Any]],
    shift_limit: int | None,
    blocks_path: str | Path | None,
    bins: int = ECE_BINS,
) -> tuple[MetricsTables, list[MethodResult]]:
    """CIFAR-10's tables with each shifted set's metrics.csv rows after CIFAR-10's, and the
    shifted sets' results (for the paired tests).

    ``methods``: test set -> the methods that score it (its own probe files); ``images``: test
    set -> its image set; ``runs``: (test set, outputs, timing) per shifted run, with
    ``requested`` (verification.RequestedRun params) in the same order.
    """
    results: list[MethodResult] = []
    for test_set, path in images.items():
        ours = [number for number, run in enumerate(runs) if run[0] == test_set]
        results.extend(
            shifted_set_results(
                test_set,
                path,
                [runs[number][1:] for number in ours],
                [requested[number] for number in ours],
                shift_limit if test_set == CIFAR10_1 else None,
                methods[test_set],
                blocks_path if test_set == CIFAR10_C else None,
                bins,
            )
        )
    if not results:
        return tables, results
    rows = pd.DataFrame([metrics_row(result) for result in results], columns=tables.metrics.columns)
    metrics = pd.concat([tables.metrics, rows.astype({"parameters": "Int64"})], ignore_index=True)
    return dataclasses.replace(tables, metrics=metrics), results


def reference_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    """CIFAR-10's rows of metrics.csv: what the per-run plots, tables and summary describe."""
    if "test_set" not in metrics.columns:
        return metrics
    return metrics[
        metrics["test_set"].isin([REFERENCE_TEST_SET]) | metrics["test_set"].isna()
    ].reset_index(drop=True)
