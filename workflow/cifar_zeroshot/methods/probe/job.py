"""The linear-probe jobs: fit on a run's training-set features and score its test-set features
(keeping the fitted probe), and apply that stored probe to a shifted test set's features.

Before fitting, the stored files are shown to belong together: the test features are the
run's that its timing file describes (the inference job writes both with the same facts), and
the training features come from the same model, weights and variant as the test features, and
from the training set now on disk (its digest). Each refusal names the file at fault. Nothing
here runs a model, so changing the probe's settings reruns only this. The probe is fitted on
CIFAR-10's training features alone: a shifted set's features are only ever scored by it.
"""

import dataclasses
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.image_set import ImageSet, load_image_set
from cifar_zeroshot.data.test_set import images_digest
from cifar_zeroshot.methods.probe.fit import fit_probe, probe_scores
from cifar_zeroshot.methods.probe.settings import ProbeSettings
from cifar_zeroshot.records.features import read_features
from cifar_zeroshot.records.logits import TimingTable, read_timing
from cifar_zeroshot.records.parquet_rows import RowsTable
from cifar_zeroshot.records.probe_fit import StoredProbe, read_probe_fit, write_probe_fit
from cifar_zeroshot.records.probe_scores import (
    ProbeRecord,
    read_probe_scores,
    write_probe_scores,
)
from cifar_zeroshot.records.run_facts import RunFacts, fact_differences

log = logging.getLogger(__name__)

# What a run's training and test features must share to be one model's.
_SAME_RUN = ("model", "weights", "variant", "precision", "compile", "preprocess", "dataset")


@dataclass(frozen=True)
class ProbeInputs:
    train_features: Path
    train_timing: Path
    test_features: Path
    test_timing: Path  # written by the job that wrote test_features, with the same facts
    train_set: Path

    @classmethod
    def from_named(cls, files: Any) -> "ProbeInputs":
        """From anything with these five names as attributes (a Snakemake job's input)."""
        return cls(*(Path(getattr(files, field.name)) for field in dataclasses.fields(cls)))


def _refuse(path: Path, problem: str) -> UserError:
    return UserError(
        f"{path} {problem}. Fix: delete it and rerun snakemake (or rerun with --forcerun "
        "train_features) so that the training features are extracted again."
    )


def _check_features_timing(
    features: Path, timing: Path, facts: RunFacts, training: tuple[Path, str] | None = None
) -> None:
    """Test features are the run's whose timing file the same job wrote; ``training``: the
    training set and its digest, to name training features copied over them."""
    run = read_timing(timing).facts
    if facts == run:
        return
    if training is not None and facts.test_set_sha256 == training[1]:
        problem = (
            f"holds features of the {facts.image_count} training images of {training[0]}, "
            f"not of the {run.image_count} test images its run scored ({timing})"
        )
    else:
        wrong = "; ".join(fact_differences(asdict(facts), asdict(run)))
        problem = f"holds features of another run than {timing} records: {wrong}"
    raise UserError(
        f"{features} {problem}. It was copied, restored or edited, so a probe scored "
        f"on it would not describe this run. Fix: rerun the job that writes it with "
        f"`snakemake --forcerun {features}` (with your usual --configfile/--config)."
    )


def _check_test_features(inputs: ProbeInputs, test: RunFacts, train_digest: str) -> None:
    _check_features_timing(
        inputs.test_features, inputs.test_timing, test, (inputs.train_set, train_digest)
    )


def _check_train_features(
    inputs: ProbeInputs, train: RunFacts, test: RunFacts, train_images: int, train_digest: str
) -> None:
    for name in _SAME_RUN:
        ours, theirs = getattr(train, name), getattr(test, name)
        if ours != theirs:
            raise _refuse(
                inputs.train_features,
                f"has {name} {ours!r}, but the test features {inputs.test_features} have "
                f"{theirs!r}: they are not one run's",
            )
    if train.image_count != train_images or train.test_set_sha256 != train_digest:
        raise _refuse(
            inputs.train_features,
            f"was extracted from other training images than {inputs.train_set} holds now "
            f"({train.image_count} images recorded, {train_images} on disk)",
        )


def read_probe_features(inputs: ProbeInputs) -> tuple[RowsTable, RowsTable, TimingTable]:
    """(training features, test features, training timing), shown to be one run's (see above)."""
    train = read_features(inputs.train_features)
    test = read_features(inputs.test_features)
    images, labels = load_image_set(inputs.train_set, ImageSet.TRAINING)
    train_digest = images_digest(images, labels)
    _check_test_features(inputs, test.facts, train_digest)
    _check_train_features(inputs, train.facts, test.facts, len(labels), train_digest)
    timing = read_timing(inputs.train_timing)
    if timing.facts != train.facts:
        raise _refuse(inputs.train_timing, f"is not the timing of {inputs.train_features}")
    return train, test, timing


def run_probe(
    inputs: ProbeInputs,
    settings: ProbeSettings,
    out_path: str | Path,
    fit_path: str | Path | None = None,
) -> ProbeRecord:
    """Fit, score the test images, and write results/probe/{model}/{variant}.parquet and, given
    ``fit_path``, the fitted probe (records.probe_fit) that scores the shifted sets."""
    train, test, timing = read_probe_features(inputs)
    fit = fit_probe(train.values, train.labels, settings)
    scores = probe_scores(fit, test.values)
    summary = timing.summary
    record = ProbeRecord(
        regularisation=fit.regularisation,
        validation_accuracy=fit.validation_accuracy,
        regularisations=list(fit.regularisations),
        validation_accuracies=list(fit.validation_accuracies),
        validation_fraction=settings.validation_fraction,
        max_iterations=settings.max_iterations,
        seed=settings.seed,
        iterations=fit.iterations,
        fit_seconds=fit.seconds,
        train_images=len(train.labels),
        feature_width=train.values.shape[1],
        train_images_per_second=summary.images_per_second,
        train_host_peak_rss_bytes=summary.host_peak_rss_bytes,
        train_torch_peak_allocated_bytes=summary.torch_peak_allocated_bytes,
    )
    write_probe_scores(out_path, test.facts, (test.image_index, test.labels, scores), record)
    if fit_path is not None:
        write_probe_fit(
            fit_path, StoredProbe(fit.weight, fit.bias, fit.mean, fit.std, test.facts, record)
        )
    log.info(
        "%s %s: probe fitted on %d training images (λ=%g, validation top-1 %.3f) in %.1f s",
        test.facts.model,
        test.facts.variant,
        record.train_images,
        record.regularisation,
        record.validation_accuracy,
        record.fit_seconds,
    )
    return record


@dataclass(frozen=True)
class ShiftedProbeInputs:
    probe_fit: Path  # the probe fitted on CIFAR-10's training features (records.probe_fit)
    features: Path  # a shifted test set's features: results/features/{test_set}/...
    timing: Path  # written by the job that wrote ``features``, with the same facts
    # The fit's own CIFAR-10 scores and the test features they came from: the fit must
    # reproduce them before it is believed on another set.
    reference_scores: Path  # results/probe/cifar10/{model}/{variant}.parquet
    reference_features: Path  # results/features/cifar10/{model}/{variant}/test.parquet


# Refitting the same probe gives the same float32 arrays; scoring CIFAR-10 again from them
# differs from the stored scores by float rounding alone (measured 2.9e-6 on the demo).
REPRODUCTION_TOLERANCE = 1e-5


def _check_fit_reproduces_reference(inputs: ShiftedProbeInputs, probe: StoredProbe) -> None:
    """The kept fit is the one whose CIFAR-10 scores are stored: same record, same scores."""
    reference = read_probe_scores(inputs.reference_scores)
    fix = (
        f"Fix: delete {inputs.probe_fit} and {inputs.reference_scores} and rerun snakemake "
        "(the probe is fitted again on CIFAR-10's training features)."
    )
    if probe.facts != reference.facts or probe.record != reference.record:
        raise UserError(
            f"{inputs.probe_fit} is not the fit that wrote {inputs.reference_scores}: its run "
            "facts or probe record differ (one of the two was restored or copied from another "
            f"run or settings), so its scores of another set would not match CIFAR-10's. {fix}"
        )
    features = read_features(inputs.reference_features)
    if features.facts != reference.facts or not np.array_equal(
        features.image_index, reference.rows.image_index
    ):
        raise UserError(
            f"{inputs.reference_features} is not the features file {inputs.reference_scores} "
            f"was scored from (other run facts or images). Fix: delete "
            f"{inputs.reference_scores} and rerun snakemake."
        )
    recomputed = probe_scores(probe, features.values)
    difference = float(np.max(np.abs(recomputed - reference.rows.values), initial=0.0))
    scale = max(1.0, float(np.max(np.abs(reference.rows.values), initial=0.0)))
    if not difference <= REPRODUCTION_TOLERANCE * scale:
        raise UserError(
            f"{inputs.probe_fit} does not reproduce the CIFAR-10 probe scores it wrote: scoring "
            f"{inputs.reference_features} with it differs from {inputs.reference_scores} by up "
            f"to {difference:.3g} (float rounding alone gives below "
            f"{REPRODUCTION_TOLERANCE * scale:.1g}), so its weights were edited or replaced. {fix}"
        )


def _check_same_model(inputs: ShiftedProbeInputs, probe: StoredProbe, facts: RunFacts) -> None:
    for name in _SAME_RUN:
        fitted, held = getattr(probe.facts, name), getattr(facts, name)
        if fitted != held:
            raise UserError(
                f"{inputs.probe_fit} was fitted on features with {name} {fitted!r}, but "
                f"{inputs.features} has {held!r}: they are not one model's, so the probe cannot "
                f"score them. Fix: delete {inputs.probe_fit} and {inputs.features} and rerun "
                "snakemake (the probe is fitted again on CIFAR-10's training features only)."
            )


def apply_stored_probe(inputs: ShiftedProbeInputs, out_path: str | Path) -> StoredProbe:
    """Score a shifted set's features with the stored probe (never refitted on them) and write
    results/probe/{test_set}/{model}/{variant}.parquet: the features' run facts, their images
    and labels, and the probe's record, as the CIFAR-10 probe file has them."""
    features = read_features(inputs.features)
    _check_features_timing(inputs.features, inputs.timing, features.facts)
    probe = read_probe_fit(inputs.probe_fit)
    _check_fit_reproduces_reference(inputs, probe)
    _check_same_model(inputs, probe, features.facts)
    scores = probe_scores(probe, features.values)
    rows = (features.image_index, features.labels, scores)
    write_probe_scores(out_path, features.facts, rows, probe.record)
    log.info(
        "%s %s: the stored probe (λ=%g) scored %d images of %s",
        features.facts.model,
        features.facts.variant,
        probe.record.regularisation,
        len(features.labels),
        inputs.features,
    )
    return probe
