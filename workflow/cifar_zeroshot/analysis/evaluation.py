"""Evaluating the runs: read each run's logits and timing, check that runs compare, score them.

Nothing here runs a model: every number comes from the Parquet files written by inference, so
metrics can be recomputed (for instance with another pooling) without touching the GPU. Runs
are refused when they cannot be compared: a logits file paired with another run's timing file,
a model and variant listed twice, or runs on different test images; and, given a RunCheck per
run (verification.py), when a file is not the run the configuration asks for.

Runs are read one at a time (open_runs), and a run's per-image values part by part
(read_part), so scoring holds one run's (or one CIFAR-10-C block's) logits at a time. A result
keeps a RunRecord, never the logits: its images, labels and the ImageNet top-1 per image.
"""

import dataclasses
import logging
import math
from collections.abc import Iterator, Sequence
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
from cifar_zeroshot.records.embeddings import EMBEDDINGS_COLUMN
from cifar_zeroshot.records.features import FEATURES_COLUMN
from cifar_zeroshot.records.logits import LOGITS_LAYOUT, read_timing
from cifar_zeroshot.records.parquet_rows import OpenedRows, open_parquet, open_rows, read_values
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
class RunRecord:
    """What a result keeps of the run (or the CIFAR-10-C block of it) it scored: whose run and
    how fast, which images with which labels, and the run's own ImageNet top-1 per image; no
    logits, so the results of many runs fit in memory. Runs of the same images share one
    image_index and one labels array (open_runs)."""

    outputs_path: Path
    facts: RunFacts
    summary: TimingSummary
    image_index: np.ndarray
    labels: np.ndarray  # int64, CIFAR-10 label order
    # The unrestricted argmax over the 1000 ImageNet logits (int16, for top_confusions.csv);
    # None for a run without logits (CLIP, or one the linear probe alone scores).
    imagenet_top1: np.ndarray | None = None


def imagenet_top1(logits: np.ndarray | None) -> np.ndarray | None:
    """Per image, the ImageNet class with the highest logit (the first of equal ones)."""
    return None if logits is None else np.argmax(logits, axis=1).astype(np.int16)


def run_record(run: StoredRun) -> RunRecord:
    """What the results keep of ``run``: its image arrays themselves (not copies)."""
    outputs = run.outputs
    return RunRecord(
        run.outputs_path,
        run.facts,
        run.summary,
        outputs.image_index,
        outputs.labels,
        imagenet_top1(outputs.logits),
    )


@dataclass(frozen=True)
class MethodResult:
    """One method's evaluation of one run."""

    run: RunRecord
    method: str
    settings: dict[str, str]
    figures: dict[str, float]
    predicted: np.ndarray  # top-1 CIFAR-10 class per image (int8)
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


# What a run's per-image file holds, by its values column: the layout it is read with (None:
# any width) and the RunOutputs field the values go to (None: features, the probe's to read).
_HOLDS = {
    EMBEDDINGS_COLUMN: (None, "embeddings"),
    FEATURES_COLUMN: (None, None),
    LOGITS_LAYOUT.column: (LOGITS_LAYOUT, "logits"),
}


@dataclass(frozen=True)
class OpenedRun:
    """A run whose files are checked and whose images and labels are read (sorted by
    image_index, in ``record``), its per-image values still on disk: read_part reads them."""

    record: RunRecord  # the whole run, without imagenet_top1
    rows: OpenedRows
    holds: str | None  # the RunOutputs field its values fill: "logits", "embeddings" or None

    @property
    def facts(self) -> RunFacts:
        return self.record.facts


def _open_outputs(path: Path) -> tuple[OpenedRows, str | None]:
    """A run's per-image file opened, and what it holds: a classifier's logits, a CLIP model's
    embeddings, or the test features of a model the linear probe alone scores."""
    names = open_parquet(path).schema_arrow.names
    column = next((c for c in (EMBEDDINGS_COLUMN, FEATURES_COLUMN) if c in names), "logits")
    layout, holds = _HOLDS[column]
    return open_rows(path, layout, column), holds


def open_run(
    outputs_path: str | Path, timing_path: str | Path, check: RunCheck | None = None
) -> OpenedRun:
    """A run's files checked (facts, pairing, and with ``check`` its rows against the test
    set) and its images and labels read; its values are left for read_part."""
    outputs_path, timing_path = Path(outputs_path), Path(timing_path)
    rows, holds = _open_outputs(outputs_path)
    timing = read_timing(timing_path)
    if check is not None:
        # Each file on its own first, so a message names the one that is wrong.
        check.check_facts(outputs_path, rows.facts)
        check.check_facts(timing_path, timing.facts)
    check_paired_facts(outputs_path, timing_path, rows.facts, timing.facts)
    order = np.argsort(rows.image_index, kind="stable")  # align runs image by image
    image_index, labels = rows.image_index[order], rows.labels[order].astype(np.int64)
    if check is not None:
        check.check_rows(outputs_path, RunOutputs(rows.facts, image_index, labels, None))
    log.info(
        "read %d images of %s %s from %s",
        len(labels),
        rows.facts.model,
        rows.facts.variant,
        outputs_path,
    )
    return OpenedRun(
        RunRecord(outputs_path, rows.facts, timing.summary, image_index, labels), rows, holds
    )


def read_part(
    run: OpenedRun, image_index: np.ndarray | None = None, labels: np.ndarray | None = None
) -> StoredRun:
    """``run`` with the values of the images ``image_index`` (sorted; with their ``labels``)
    read, each checked finite; all of the run's images for None."""
    if image_index is None or labels is None:
        image_index, labels = run.record.image_index, run.record.labels
    values = read_values(run.rows, image_index)
    outputs = RunOutputs(
        facts=run.facts,
        image_index=image_index,
        labels=labels,
        # Features are the probe's to read (its own file): the run gives only what it scored.
        logits=values if run.holds == "logits" else None,
        embeddings=values if run.holds == "embeddings" else None,
    )
    return StoredRun(run.record.outputs_path, outputs, run.record.summary)


def read_run(
    outputs_path: str | Path, timing_path: str | Path, check: RunCheck | None = None
) -> StoredRun:
    """A run's files checked and all its values read (open_run, then read_part)."""
    return read_part(open_run(outputs_path, timing_path, check))


def _check_same_images(run: RunRecord, first: RunRecord) -> None:
    """``run`` scored the same test images with the same labels as ``first``."""
    if run.facts.dataset != first.facts.dataset or len(run.labels) != len(first.labels):
        raise UserError(
            f"{run.outputs_path} ({run.facts.dataset}, {len(run.labels)} images) and "
            f"{first.outputs_path} ({first.facts.dataset}, {len(first.labels)} images) were "
            "run on different test sets, so their metrics are not comparable. Delete the "
            "stale files under results/logits and results/timing and rerun snakemake, so "
            "that every run uses the current dataset and limit."
        )
    if not (
        np.array_equal(run.image_index, first.image_index)
        and np.array_equal(run.labels, first.labels)
    ):
        raise UserError(
            f"{run.outputs_path} and {first.outputs_path} hold different images or labels "
            "under the same dataset and image count. Delete the stale one and rerun snakemake."
        )


def check_same_images(runs: Sequence[RunRecord]) -> None:
    """Every run scored the same test images with the same labels, else nothing compares."""
    for run in runs[1:]:
        _check_same_images(run, runs[0])


def open_runs(
    runs: Sequence[tuple[str | Path, str | Path]], checks: Sequence[RunCheck] | None = None
) -> Iterator[OpenedRun]:
    """Every (outputs_path, timing_path) pair opened and checked in turn, one pair per
    model+variant, each on the first's images; a run is opened only once the caller has
    taken the one before. ``checks``, one per pair in the same order, verify each run against
    the configuration. Every run holds the first run's image_index and labels arrays
    themselves (once shown equal), so many runs hold one copy of them."""
    if not runs:
        raise UserError("No inference runs to evaluate: list at least one model in config models.")
    if checks is not None and len(checks) != len(runs):
        raise ValueError(f"{len(runs)} runs but {len(checks)} checks")
    seen: dict[tuple[str, str], Path] = {}
    first: RunRecord | None = None
    for number, (outputs_path, timing_path) in enumerate(runs):
        run = open_run(outputs_path, timing_path, None if checks is None else checks[number])
        key = (run.facts.model, run.facts.variant)
        if key in seen:
            raise UserError(
                f"{run.record.outputs_path} and {seen[key]} are both {key[0]} {key[1]}: "
                "list each model and variant once."
            )
        seen[key] = run.record.outputs_path
        if first is None:
            first = run.record
        else:
            _check_same_images(run.record, first)
            shared = dataclasses.replace(
                run.record, image_index=first.image_index, labels=first.labels
            )
            run = dataclasses.replace(run, record=shared)
        yield run


def read_runs(
    runs: Sequence[tuple[str | Path, str | Path]], checks: Sequence[RunCheck] | None = None
) -> list[StoredRun]:
    """Every (outputs_path, timing_path) pair, read and checked (open_runs); one pair per
    model+variant. Every run's values in memory at once: open_runs reads one at a time."""
    return [read_part(run) for run in open_runs(runs, checks)]


def _classes(scores: np.ndarray) -> np.ndarray:
    """The top-1 CIFAR-10 class per image, in the smallest dtype that holds the ten."""
    return top1(scores).astype(np.int8)


def score_run(
    run: StoredRun, method: ScoringMethod, bins: int = ECE_BINS, record: RunRecord | None = None
) -> MethodResult:
    """``run`` scored by ``method``; its calibration over ``bins`` equal-width bins. The result
    keeps ``record`` (run_record(run) by default; one record serves every method of a run)."""
    scored = method.score(run.outputs)
    labels = run.outputs.labels
    return MethodResult(
        run=run_record(run) if record is None else record,
        method=method.name,
        settings=dict(scored.settings),
        figures=dict(scored.figures),
        predicted=_classes(scored.scores),
        correct={k: int(topk_correct(scored.scores, labels, k).sum()) for k in TOP_K},
        calibration=calibration_figures(scored.probabilities, labels, bins),
        reliability=reliability_bins(scored.probabilities, labels, bins),
        agreement_with_fp32=math.nan,
        alternative_predicted={name: _classes(p) for name, p in scored.alternatives.items()},
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
            score_run(run, method, bins, record)
            for run, record in ((run, run_record(run)) for run in stored)
            for method in methods
            if method.applies_to(run.outputs)
        ]
    )
    log.info("scored %d runs with %s", len(stored), ", ".join(m.name for m in methods))
    return sorted(results, key=lambda result: result.key)
