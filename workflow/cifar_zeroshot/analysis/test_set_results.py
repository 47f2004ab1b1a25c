"""The results of one test set's runs: every run verified against that set's image set, then
scored by the methods configured for that set, per block where the set has blocks.

Every test set is handled alike, CIFAR-10 among them. A run file is verified
(verification.run_checks) against its own test set: the image set after the limit its job was
given. The class mapping and CLIP prompts score each set's logits or embeddings; the linear
probe, fitted on CIFAR-10's training features only, scores each set from that set's own probe
file (results/probe/<test_set>/...), checked as every method file is. A method's files are
looked up per test set (methods_for_test_set), so no method is handed another set's files.

Runs are scored one at a time, and a set in blocks one block at a time: a run's values are read
for one block, scored by every method, and dropped before the next block is read, so the job
holds one block's logits (one run's for a set without blocks) whatever the set's size.
"""

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cifar_zeroshot.analysis.evaluation import (
    MethodResult,
    OpenedRun,
    RunRecord,
    open_runs,
    read_part,
    run_record,
    score_run,
    with_agreement,
)
from cifar_zeroshot.analysis.verification import run_checks
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.shifted_selection import block_of_rows, read_selection_table
from cifar_zeroshot.data.test_set_checks import ConfiguredTestSet
from cifar_zeroshot.data.test_sets import test_set as registered_test_set
from cifar_zeroshot.methods.calibration import ECE_BINS
from cifar_zeroshot.methods.interface import MethodInputs, ScoringMethod
from cifar_zeroshot.methods.registry import configured_methods

log = logging.getLogger(__name__)


def methods_for_test_set(
    inputs: MethodInputs,
    test_set: str,
    probe_files: Sequence[tuple[tuple[str, str, str], str | Path]],
) -> list[ScoringMethod]:
    """The configured methods that score ``test_set``: ``inputs`` with that set's probe files
    alone (``probe_files``: (test set, model, variant) -> the CIFAR-10 probe's scores of that
    set's features), each file checked as every method file is (methods.interface). The
    balanced variants score only a set whose class prior is known to be equal."""
    return configured_methods(
        dataclasses.replace(
            inputs,
            equal_class_prior=registered_test_set(test_set).equal_class_prior,
            test_set=test_set,
            probe_files={
                (model, variant): Path(path)
                for (probed_set, model, variant), path in probe_files
                if probed_set == test_set
            },
        )
    )


# One scope of a test set: (corruption, severity, its images' image_index and labels).
Part = tuple[str, int | None, np.ndarray, np.ndarray]


def scope_parts(run: RunRecord, blocks: pd.DataFrame | None) -> list[Part]:
    """The run's images per block of ``blocks`` (CIFAR-10-C), sorted by image_index; all its
    images without blocks. Computed once per test set: every run holds the same images."""
    if blocks is None:
        return [("", None, run.image_index, run.labels)]
    corruption, severity = block_of_rows(blocks, run.image_index)
    parts: list[Part] = []
    for c, s in zip(blocks["corruption"], blocks["severity"], strict=True):
        rows = np.flatnonzero((corruption == c) & (severity == s))
        parts.append((c, int(s), run.image_index[rows], run.labels[rows]))
    return parts


def scope_results(
    test_set: str,
    runs: Iterable[OpenedRun],
    methods: Sequence[ScoringMethod],
    blocks: pd.DataFrame | None = None,
    bins: int = ECE_BINS,
) -> list[MethodResult]:
    """Every run scored by every method that applies, per block of ``blocks`` (CIFAR-10-C), each
    scope's results sorted by model, variant and method, with their agreement with the fp32 run
    on the same images (calibration over ``bins`` bins). Each run's values are read one block
    at a time (evaluation.read_part) and dropped once scored."""
    if not methods:
        raise UserError("No scoring methods to evaluate the runs with.")
    by_block: dict[tuple[str, int | None], list[MethodResult]] = {}
    parts: list[Part] | None = None
    for run in runs:
        if parts is None:
            parts = scope_parts(run.record, blocks)
        for corruption, severity, image_index, labels in parts:
            part = read_part(run, image_index, labels)
            record = run_record(part)
            by_block.setdefault((corruption, severity), []).extend(
                dataclasses.replace(
                    score_run(part, method, bins, record),
                    test_set=test_set,
                    corruption=corruption,
                    severity=severity,
                )
                for method in methods
                if method.applies_to(part.outputs)
            )
            del part  # its values, before the next block's are read
    return [
        result
        for results in by_block.values()
        for result in sorted(with_agreement(results), key=lambda result: result.key)
    ]


def test_set_results(
    test_set: str,
    configured: ConfiguredTestSet,
    runs: Sequence[tuple[str | Path, str | Path]],
    requested: Sequence[Mapping[str, Any]],
    methods: Sequence[ScoringMethod],
    blocks_path: str | Path | None = None,
    bins: int = ECE_BINS,
) -> list[MethodResult]:
    """The results of one test set's runs ((outputs, timing) pairs, with what each job was
    asked in ``requested``), each verified against ``configured`` before it is scored."""
    blocks = None if blocks_path is None else read_selection_table(blocks_path, configured.path)
    opened = open_runs(runs, run_checks(list(runs), list(requested), configured))
    results = scope_results(test_set, opened, methods, blocks, bins)
    log.info("scored %d runs on %s: %d results", len(runs), test_set, len(results))
    return results
