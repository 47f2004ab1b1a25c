"""The probe job's checks of its input files: each refusal names the file at fault."""

import shutil

import numpy as np
import pytest
from run_files import make_facts, make_summary, timing_batches

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.test_set import images_digest
from cifar_zeroshot.methods.probe.job import ProbeInputs, run_probe
from cifar_zeroshot.methods.probe.settings import ProbeSettings
from cifar_zeroshot.records.features import FeaturesWriter
from cifar_zeroshot.records.logits import write_timing
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
