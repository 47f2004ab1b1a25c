"""The probabilities each scoring method implies: distributions, with the scores' top-1 class."""

import numpy as np
import pytest

from cifar_zeroshot.methods.probabilities import (
    clip_probabilities,
    mapping_probabilities,
    probe_probabilities,
)
from cifar_zeroshot.methods.scoring import pool, softmax, top1

GROUPS = [np.array([2 * k, 2 * k + 1]) for k in range(10)]


@pytest.mark.parametrize("pooling", ["max_logit", "mean_prob", "sum_prob"])
def test_mapping_probabilities_are_distributions_with_the_scores_ranking(pooling):
    logits = np.random.default_rng(0).normal(size=(50, 1000)).astype(np.float32)
    pooled = pool(logits, GROUPS, pooling)
    probabilities = mapping_probabilities(pooled, pooling)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(top1(probabilities), top1(pooled))


def test_mapping_probabilities_by_definition():
    pooled = np.array([[0.2, 0.1, 0.1] + [0.0] * 7])
    # mean_prob / sum_prob: the pooled probabilities renormalised over the 10 classes.
    np.testing.assert_allclose(mapping_probabilities(pooled, "sum_prob")[0, :3], [0.5, 0.25, 0.25])
    # max_logit: the softmax of the pooled logits.
    np.testing.assert_allclose(mapping_probabilities(pooled, "max_logit"), softmax(pooled))
    # Every mapped probability underflowed: uniform rather than 0/0.
    np.testing.assert_allclose(mapping_probabilities(np.zeros((1, 10)), "mean_prob"), 0.1)


def test_probe_and_clip_probabilities():
    scores = np.array([[1.0, 0.0] + [0.0] * 8])
    np.testing.assert_allclose(probe_probabilities(scores), softmax(scores))
    cosines = np.array([[0.3, 0.2] + [0.0] * 8])
    expected = np.exp(100 * cosines[0]) / np.exp(100 * cosines[0]).sum()
    np.testing.assert_allclose(clip_probabilities(cosines, 100.0)[0], expected)
