"""The probe job's checks of its input files: each refusal names the file at fault; and the
stored probe applied to a shifted set's features (the rule probe_scores)."""

import dataclasses
import shutil

import numpy as np
import pytest
from run_files import make_facts, make_summary, timing_batches

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.test_set import images_digest
from cifar_zeroshot.methods.probe.job import (
    ProbeInputs,
    ShiftedProbeInputs,
    apply_stored_probe,
    run_probe,
)
from cifar_zeroshot.methods.probe.settings import ProbeSettings
from cifar_zeroshot.records.features import FeaturesWriter, read_features
from cifar_zeroshot.records.logits import write_timing
from cifar_zeroshot.records.probe_fit import read_probe_fit
from cifar_zeroshot.records.probe_scores import read_probe_scores

SETTINGS = ProbeSettings(
    validation_fraction=0.2, regularisations=(0.01,), max_iterations=20, seed=0
)
TRAIN, TEST, WIDTH = 100, 20, 10


def _features(path, facts, labels, rng):
    """Features that separate the classes (class k is about 10 * e_k), as inference writes them."""
    values = 10 * np.eye(WIDTH, dtype=np.float32)[labels] + rng.normal(
        size=(len(labels), WIDTH)
    ).astype(np.float32)
    with FeaturesWriter(path, facts, WIDTH) as writer:
        writer.write_batch(np.arange(len(labels)), labels, values)


@pytest.fixture
def inputs(tmp_path) -> ProbeInputs:
    """A probe job's inputs as the workflow leaves them: training set, features and timing."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (TRAIN, 32, 32, 3), dtype=np.uint8)
    labels = (np.arange(TRAIN) % 10).astype(np.uint8)
    np.savez(tmp_path / "train_set.npz", images=images, labels=labels)
    probe = ProbeInputs(
        train_features=tmp_path / "train.parquet",
        train_timing=tmp_path / "train_timing.parquet",
        test_features=tmp_path / "test.parquet",
        test_timing=tmp_path / "timing.parquet",
        train_set=tmp_path / "train_set.npz",
    )
    train = make_facts(image_count=TRAIN, test_set_sha256=images_digest(images, labels))
    test = make_facts(image_count=TEST)
    test_labels = np.arange(TEST) % 10
    for features, timing, facts, rows in (
        (probe.train_features, probe.train_timing, train, labels),
        (probe.test_features, probe.test_timing, test, test_labels),
    ):
        _features(features, facts, rows, rng)
        write_timing(timing, timing_batches(facts.image_count), facts, make_summary())
    return probe


def test_the_probe_job_fits_and_scores_matching_files(inputs, tmp_path):
    record = run_probe(inputs, SETTINGS, tmp_path / "probe.parquet")
    assert record.train_images == TRAIN and record.validation_accuracy == 1.0
    assert read_probe_scores(tmp_path / "probe.parquet").facts == make_facts(image_count=TEST)


def test_training_features_copied_over_the_test_features_are_named(inputs, tmp_path):
    # Issue 24: the job accepted them, and the metrics then blamed the probe file.
    shutil.copyfile(inputs.train_features, inputs.test_features)
    with pytest.raises(UserError) as caught:
        run_probe(inputs, SETTINGS, tmp_path / "probe.parquet")
    assert str(caught.value) == (
        f"{inputs.test_features} holds features of the {TRAIN} training images of "
        f"{inputs.train_set}, not of the {TEST} test images its run scored "
        f"({inputs.test_timing}). It was copied, restored or edited, so a probe scored on it "
        "would not describe this run. Fix: rerun the job that writes it with "
        f"`snakemake --forcerun {inputs.test_features}` (with your usual --configfile/--config)."
    )
    assert not (tmp_path / "probe.parquet").exists()


def test_another_runs_test_features_are_named(inputs, tmp_path):
    rng = np.random.default_rng(1)
    _features(inputs.test_features, make_facts("vit", image_count=TEST), np.arange(TEST) % 10, rng)
    with pytest.raises(UserError) as caught:
        run_probe(inputs, SETTINGS, tmp_path / "probe.parquet")
    assert str(caught.value).startswith(
        f"{inputs.test_features} holds features of another run than {inputs.test_timing} "
        "records: model is 'vit', expected 'resnet'; weights is 'vit_Weights.X', expected "
        "'resnet_Weights.X'. It was copied"
    )


def test_training_features_of_another_run_are_still_named_as_such(inputs, tmp_path):
    rng = np.random.default_rng(2)
    facts = make_facts("vit", image_count=TRAIN)
    _features(inputs.train_features, facts, np.arange(TRAIN) % 10, rng)
    with pytest.raises(UserError, match=f"^{inputs.train_features} has model 'vit', but the test"):
        run_probe(inputs, SETTINGS, tmp_path / "probe.parquet")


# The stored probe (records.probe_fit) and the rule probe_scores's job, which applies it.


def _shifted_features(tmp_path, facts, rng) -> ShiftedProbeInputs:
    """A shifted set's features and timing as its inference job writes them, beside a fit."""
    labels = np.arange(facts.image_count) % 10
    features, timing = tmp_path / "shifted.parquet", tmp_path / "shifted_timing.parquet"
    _features(features, facts, labels, rng)
    write_timing(timing, timing_batches(facts.image_count), facts, make_summary())
    # Beside the fit, the CIFAR-10 scores it wrote and their features (the fixture's).
    return ShiftedProbeInputs(
        tmp_path / "probe.fit.npz",
        features,
        timing,
        tmp_path / "probe.parquet",
        tmp_path / "test.parquet",
    )


def test_keeping_the_fit_leaves_the_cifar10_scores_unchanged_and_reapplying_it_repeats_them(
    inputs, tmp_path
):
    run_probe(inputs, SETTINGS, tmp_path / "plain.parquet")
    record = run_probe(inputs, SETTINGS, tmp_path / "probe.parquet", tmp_path / "probe.fit.npz")
    plain, kept = (read_probe_scores(tmp_path / f"{n}.parquet") for n in ("plain", "probe"))
    np.testing.assert_array_equal(kept.rows.values, plain.rows.values)
    assert kept.record == record
    assert dataclasses.replace(plain.record, fit_seconds=0.0) == dataclasses.replace(
        record, fit_seconds=0.0
    )
    fit = read_probe_fit(tmp_path / "probe.fit.npz")
    assert fit.facts == kept.facts and fit.record == record and fit.weight.shape == (10, WIDTH)
    # The stored probe applied to CIFAR-10's own test features: the stored scores, bit for bit.
    again = ShiftedProbeInputs(
        tmp_path / "probe.fit.npz",
        inputs.test_features,
        inputs.test_timing,
        tmp_path / "probe.parquet",
        inputs.test_features,
    )
    apply_stored_probe(again, tmp_path / "again.parquet")
    reapplied = read_probe_scores(tmp_path / "again.parquet")
    np.testing.assert_array_equal(reapplied.rows.values, kept.rows.values)
    assert reapplied.facts == kept.facts and reapplied.record == record


def test_the_stored_probe_scores_a_shifted_set_by_its_formula_without_refitting(inputs, tmp_path):
    run_probe(inputs, SETTINGS, tmp_path / "probe.parquet", tmp_path / "probe.fit.npz")
    fitted = (tmp_path / "probe.fit.npz").read_bytes()
    facts = make_facts(image_count=12, test_set_sha256="c1" * 32, limit=12)
    shifted = _shifted_features(tmp_path, facts, np.random.default_rng(3))
    probe = apply_stored_probe(shifted, tmp_path / "shifted_probe.parquet")
    stored = read_probe_scores(tmp_path / "shifted_probe.parquet")
    assert stored.facts == facts and stored.record == probe.record
    values = read_features(shifted.features).values
    expected = ((values - probe.mean) / probe.std) @ probe.weight.T + probe.bias
    np.testing.assert_allclose(stored.rows.values, expected, rtol=1e-5, atol=1e-5)
    assert np.mean(stored.rows.values.argmax(axis=1) == stored.rows.labels) == 1.0
    assert (tmp_path / "probe.fit.npz").read_bytes() == fitted  # read, never written


def test_a_stored_probe_of_another_model_is_refused_naming_both_files(inputs, tmp_path):
    run_probe(inputs, SETTINGS, tmp_path / "probe.parquet", tmp_path / "probe.fit.npz")
    facts = make_facts("vit", image_count=12, test_set_sha256="c1" * 32)
    shifted = _shifted_features(tmp_path, facts, np.random.default_rng(3))
    with pytest.raises(UserError) as caught:
        apply_stored_probe(shifted, tmp_path / "shifted_probe.parquet")
    assert str(caught.value) == (
        f"{shifted.probe_fit} was fitted on features with model 'resnet', but {shifted.features} "
        f"has 'vit': they are not one model's, so the probe cannot score them. Fix: delete "
        f"{shifted.probe_fit} and {shifted.features} and rerun snakemake (the probe is fitted "
        "again on CIFAR-10's training features only)."
    )
    assert not (tmp_path / "shifted_probe.parquet").exists()


def test_shifted_features_of_another_run_than_their_timing_are_refused(inputs, tmp_path):
    run_probe(inputs, SETTINGS, tmp_path / "probe.parquet", tmp_path / "probe.fit.npz")
    facts = make_facts(image_count=12, test_set_sha256="c1" * 32)
    shifted = _shifted_features(tmp_path, facts, np.random.default_rng(3))
    other = make_facts(image_count=12, test_set_sha256="d2" * 32)
    write_timing(shifted.timing, timing_batches(12), other, make_summary())
    with pytest.raises(UserError, match=f"^{shifted.features} holds features of another run"):
        apply_stored_probe(shifted, tmp_path / "shifted_probe.parquet")


def test_a_kept_fit_with_other_weights_of_the_same_shape_is_refused(inputs, tmp_path):
    run_probe(inputs, SETTINGS, tmp_path / "probe.parquet", tmp_path / "probe.fit.npz")
    stored = dict(np.load(tmp_path / "probe.fit.npz"))
    stored["weight"] = (
        np.random.default_rng(9).normal(size=stored["weight"].shape).astype(np.float32)
    )
    np.savez(tmp_path / "probe.fit.npz", **stored)
    shifted = _shifted_features(tmp_path, make_facts(image_count=12), np.random.default_rng(3))
    with pytest.raises(UserError) as caught:
        apply_stored_probe(shifted, tmp_path / "shifted_probe.parquet")
    message = str(caught.value)
    assert message.startswith(
        f"{shifted.probe_fit} does not reproduce the CIFAR-10 probe scores it wrote: scoring "
        f"{shifted.reference_features} with it differs from {shifted.reference_scores} by up to"
    )
    assert message.endswith(
        f"Fix: delete {shifted.probe_fit} and {shifted.reference_scores} and rerun snakemake "
        "(the probe is fitted again on CIFAR-10's training features)."
    )
    assert not (tmp_path / "shifted_probe.parquet").exists()


def test_an_older_fit_restored_after_a_refit_is_named(inputs, tmp_path):
    run_probe(inputs, SETTINGS, tmp_path / "probe.parquet", tmp_path / "probe.fit.npz")
    older = (tmp_path / "probe.fit.npz").read_bytes()
    refit = dataclasses.replace(SETTINGS, regularisations=(0.1,))
    run_probe(inputs, refit, tmp_path / "probe.parquet", tmp_path / "probe.fit.npz")
    (tmp_path / "probe.fit.npz").write_bytes(older)
    shifted = _shifted_features(tmp_path, make_facts(image_count=12), np.random.default_rng(3))
    with pytest.raises(UserError, match=f"^{shifted.probe_fit} is not the fit that wrote "):
        apply_stored_probe(shifted, tmp_path / "shifted_probe.parquet")
