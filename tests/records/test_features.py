"""Tests for cifar_zeroshot.records.features: features beside the logits."""

import numpy as np
import pytest
from run_files import make_facts

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.inference.outputs import SplitWriter
from cifar_zeroshot.records.features import FeaturesWriter, read_features
from cifar_zeroshot.records.logits import LogitsWriter, read_logits


def test_split_writer_sends_logits_and_features_to_their_files(tmp_path):
    facts = make_facts(image_count=4)
    rng = np.random.default_rng(0)
    outputs = rng.normal(size=(4, 1000 + 6)).astype(np.float32)
    labels = np.array([0, 1, 2, 3])
    with (
        LogitsWriter(tmp_path / "l.parquet", facts) as logits,
        FeaturesWriter(tmp_path / "f.parquet", facts, 6) as features,
    ):
        writer = SplitWriter([(1000, logits), (6, features)])
        writer.write_batch(np.arange(2), labels[:2], outputs[:2])
        writer.write_batch(np.arange(2, 4), labels[2:], outputs[2:])
    np.testing.assert_array_equal(read_logits(tmp_path / "l.parquet").logits, outputs[:, :1000])
    stored = read_features(tmp_path / "f.parquet")
    assert stored.values.dtype == np.float32 and stored.facts == facts
    np.testing.assert_array_equal(stored.values, outputs[:, 1000:])


def test_a_part_without_a_writer_is_dropped_and_widths_must_cover_the_output(tmp_path):
    facts = make_facts(image_count=1)
    with FeaturesWriter(tmp_path / "f.parquet", facts, 3) as features:
        SplitWriter([(2, None), (3, features)]).write_batch(
            np.arange(1), np.zeros(1), np.arange(5, dtype=np.float32)[None]
        )
        with pytest.raises(ValueError, match="parts cover 5 columns of 6"):
            SplitWriter([(2, None), (3, None)]).write_batch(
                np.arange(1), np.zeros(1), np.zeros((1, 6), np.float32)
            )
    np.testing.assert_array_equal(read_features(tmp_path / "f.parquet").values, [[2, 3, 4]])


def test_tiny_features_are_kept_exactly(tmp_path):
    # An untrained mobilenet_v3_small's features are about 1e-9: float16 would make them 0.
    tiny = np.array([[1.8e-9, -3e-10, 0.0]], dtype=np.float32)
    with FeaturesWriter(tmp_path / "f.parquet", make_facts(image_count=1), 3) as features:
        features.write_batch(np.arange(1), np.zeros(1), tiny)
    np.testing.assert_array_equal(read_features(tmp_path / "f.parquet").values, tiny)


def test_a_logits_file_is_not_read_as_features(tmp_path):
    facts = make_facts(image_count=1)
    with LogitsWriter(tmp_path / "l.parquet", facts) as logits:
        logits.write_batch(np.arange(1), np.zeros(1), np.zeros((1, 1000), np.float32))
    with pytest.raises(UserError, match="does not have the features schema"):
        read_features(tmp_path / "l.parquet")
