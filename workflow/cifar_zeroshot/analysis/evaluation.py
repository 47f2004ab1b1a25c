"""Evaluating the runs: read each run's logits and timing, check that runs compare, score them.

Nothing here runs a model: every number comes from the Parquet files written by inference, so
metrics can be recomputed (for instance with another pooling) without touching the GPU. Runs
are refused when they cannot be compared: a logits file paired with another run's timing file,
a model and variant listed twice, or runs on different test images; and, given a RunCheck per
run (verification.py), when a file is not the run the configuration asks for.
"""

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from cifar_zeroshot.core.choices import REFERENCE_TEST_SET
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.methods.balancing import AppliedFit
from cifar_zeroshot.methods.calibration import (
    ECE_BINS,
    ReliabilityBins,
    calibration_figures,
    reliability_bins,
)
from cifar_zeroshot.methods.interface import RunOutputs, ScoringMethod
from cifar_zeroshot.methods.scoring import agreement, top1, topk_correct
from cifar_zeroshot.records.embeddings import EMBEDDINGS_COLUMN, read_embeddings
from cifar_zeroshot.records.features import FEATURES_COLUMN, read_features
from cifar_zeroshot.records.logits import read_logits, read_timing
from cifar_zeroshot.records.parquet_rows import RowsTable, open_parquet
from cifar_zeroshot.records.run_facts import RunFacts, TimingSummary, field_names

log = logging.getLogger(__name__)

TOP_K: tuple[int, ...] = (1, 5)  # the top-k accuracies every method reports


@dataclass(frozen=True)
class StoredRun:
    """One inference run as stored: its outputs (a logits or an image-embeddings file, sorted by
    image_index) and its timing summary."""

    outputs_path: Path
    outputs: RunOutputs
    summary: TimingSummary

    @property
    def facts(self) -> RunFacts:
        return self.outputs.facts


@dataclass(frozen=True)
class MethodResult:
    """One method's evaluation of one run."""

    run: StoredRun
    method: str
    settings: dict[str, str]
    figures: dict[str, float]
    predicted: np.ndarray  # top-1 CIFAR-10 class per image
    correct: dict[int, int]  # k -> images whose label is among the k best-scored classes
    calibration: dict[str, float]  # ece, nll, brier of the method's probabilities
    reliability: ReliabilityBins  # the ECE's bins, for the reliability diagram
    agreement_with_fp32: float  # NaN for the reference run itself or without one
    # Top-1 class per image under each of the method's alternatives (the class mapping's
    # poolings, balanced or not), for results/per_class_poolings.csv.
    alternative_predicted: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    # A balanced variant's fits (scores balanced, fit): for results/balancing.csv.
    balancing: tuple[tuple[str, AppliedFit], ...] = ()
    # The images scored: the test set, and for CIFAR-10-C the corruption and severity block.
    test_set: str = REFERENCE_TEST_SET
    corruption: str = ""
    severity: int | None = None

    @property
    def scope(self) -> tuple[str, str, int | None]:
        """Which images were scored: (test set, corruption, severity), SCOPE_COLUMNS' values."""
        return self.test_set, self.corruption, self.severity

    @property
    def run_key(self) -> tuple[str, str, str]:
        """Whose result it is: (model, variant, method)."""
        return self.run.facts.model, self.run.facts.variant, self.method

    @property
    def key(self) -> tuple[str, str, int | None, str, str, str]:
        """The result's identity: its scope, then model, variant and method."""
        return *self.scope, *self.run_key


class RunCheck(Protocol):
    """What one run must be before it is scored (verification.RunCheck)."""

    def check_facts(self, path: Path, facts: RunFacts) -> None: ...

    def check_rows(self, path: Path, outputs: RunOutputs) -> None: ...


def check_paired_facts(
    outputs_path: Path, timing_path: Path, logits: RunFacts, timing: RunFacts
) -> None:
    """A run's logits and timing files carry the same facts (the same run wrote both)."""
    for name in field_names(RunFacts):
        ours, theirs = getattr(logits, name), getattr(timing, name)
        if ours != theirs:
            raise UserError(
                f"{outputs_path} and {timing_path} come from different runs ({name} is "
                f"{ours!r} vs {theirs!r}). Delete both and rerun snakemake."
            )
    try:
        Variant.parse(logits.variant)
    except UserError as error:
        raise UserError(f"{outputs_path}: {error}") from None


def _read_outputs(path: Path) -> tuple[RowsTable, str]:
    """A run's per-image file and what it holds: a classifier's logits, a CLIP model's
    embeddings, or the test features of a model the linear probe alone scores."""
    names = open_parquet(path).schema_arrow.names
    if EMBEDDINGS_COLUMN in names:
        return read_embeddings(path), "embeddings"
    if FEATURES_COLUMN in names:
        return read_features(path), "features"
    logits = read_logits(path)
    return RowsTable(logits.image_index, logits.labels, logits.logits, logits.facts), "logits"


def read_run(
    outputs_path: str | Path, timing_path: str | Path, check: RunCheck | None = None
) -> StoredRun:
    outputs_path, timing_path = Path(outputs_path), Path(timing_path)
    table, holds = _read_outputs(outputs_path)
    timing = read_timing(timing_path)
    if check is not None:
        # Each file on its own first, so a message names the one that is wrong.
        check.check_facts(outputs_path, table.facts)
        check.check_facts(timing_path, timing.facts)
    check_paired_facts(outputs_path, timing_path, table.facts, timing.facts)
    order = np.argsort(table.image_index, kind="stable")  # align runs image by image
    values = table.values[order]
    outputs = RunOutputs(
        facts=table.facts,
        image_index=table.image_index[order],
        labels=table.labels[order].astype(np.int64),
        # Features are the probe's to read (its own file): the run gives only what it scored.
        logits=values if holds == "logits" else None,
        embeddings=values if holds == "embeddings" else None,
    )
    if check is not None:
        check.check_rows(outputs_path, outputs)
    log.info(
        "read %d images of %s %s from %s",
        len(outputs.labels),
        table.facts.model,
        table.facts.variant,
        outputs_path,
    )
    return StoredRun(outputs_path, outputs, timing.summary)


def check_same_images(runs: Sequence[StoredRun]) -> None:
    """Every run scored the same test images with the same labels, else nothing compares."""
    first = runs[0]
    for run in runs[1:]:
        ours, theirs = run.outputs, first.outputs
        if run.facts.dataset != first.facts.dataset or len(ours.labels) != len(theirs.labels):
            raise UserError(
                f"{run.outputs_path} ({run.facts.dataset}, {len(ours.labels)} images) and "
                f"{first.outputs_path} ({first.facts.dataset}, {len(theirs.labels)} images) were "
                "run on different test sets, so their metrics are not comparable. Delete the "
                "stale files under results/logits and results/timing and rerun snakemake, so "
                "that every run uses the current dataset and limit."
            )
        if not (
            np.array_equal(ours.image_index, theirs.image_index)
            and np.array_equal(ours.labels, theirs.labels)
        ):
            raise UserError(
                f"{run.outputs_path} and {first.outputs_path} hold different images or labels "
                "under the same dataset and image count. Delete the stale one and rerun snakemake."
            )


def read_runs(
    runs: Sequence[tuple[str | Path, str | Path]], checks: Sequence[RunCheck] | None = None
) -> list[StoredRun]:
    """Every (outputs_path, timing_path) pair, read and checked; one pair per model+variant.

    ``checks``, one per pair in the same order, verify each run against the configuration.
    """
    if not runs:
        raise UserError("No inference runs to evaluate: list at least one model in config models.")
    if checks is not None and len(checks) != len(runs):
        raise ValueError(f"{len(runs)} runs but {len(checks)} checks")
    stored: list[StoredRun] = []
    seen: dict[tuple[str, str], Path] = {}
    for number, (outputs_path, timing_path) in enumerate(runs):
        run = read_run(outputs_path, timing_path, None if checks is None else checks[number])
        key = (run.facts.model, run.facts.variant)
        if key in seen:
            raise UserError(
                f"{run.outputs_path} and {seen[key]} are both {key[0]} {key[1]}: "
                "list each model and variant once."
            )
        seen[key] = run.outputs_path
        stored.append(run)
    check_same_images(stored)
    return stored


def score_run(run: StoredRun, method: ScoringMethod, bins: int = ECE_BINS) -> MethodResult:
    """``run`` scored by ``method``; its calibration over ``bins`` equal-width bins."""
    scored = method.score(run.outputs)
    labels = run.outputs.labels
    return MethodResult(
        run=run,
        method=method.name,
        settings=dict(scored.settings),
        figures=dict(scored.figures),
        predicted=top1(scored.scores),
        correct={k: int(topk_correct(scored.scores, labels, k).sum()) for k in TOP_K},
        calibration=calibration_figures(scored.probabilities, labels, bins),
        reliability=reliability_bins(scored.probabilities, labels, bins),
        agreement_with_fp32=math.nan,
        alternative_predicted={name: top1(p) for name, p in scored.alternatives.items()},
        balancing=tuple(scored.balancing),
    )


def with_agreement(results: Sequence[MethodResult]) -> list[MethodResult]:
    """Each result with its agreement with the fp32 eager run of the same model and method."""
    by_key = {result.key: result for result in results}
    updated = []
    for result in results:
        model, variant, method = result.run_key
        reference = Variant.parse(variant).reference.name
        baseline = by_key.get((*result.scope, model, reference, method))
        # The reference itself stays empty: agreeing with itself says nothing.
        if baseline is not None and reference != variant:
            share = agreement(result.predicted, baseline.predicted)
            result = dataclasses.replace(result, agreement_with_fp32=share)
        updated.append(result)
    return updated


def score_runs(
    stored: Sequence[StoredRun], methods: Sequence[ScoringMethod], bins: int = ECE_BINS
) -> list[MethodResult]:
    """Every run (from read_runs) scored by every method, sorted by model, variant and method."""
    if not methods:
        raise UserError("No scoring methods to evaluate the runs with.")
    results = with_agreement(
        [
            score_run(run, method, bins)
            for run in stored
            for method in methods
            if method.applies_to(run.outputs)
        ]
    )
    log.info("scored %d runs with %s", len(stored), ", ".join(m.name for m in methods))
    return sorted(results, key=lambda result: result.key)
