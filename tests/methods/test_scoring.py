"""Tests for cifar_zeroshot.methods.scoring: pooling, rankings and intervals on hand-made arrays."""

import math

import numpy as np
import pytest
from run_files import GROUPS, one_hot_logits
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, confusion_matrix, top_k_accuracy_score

from cifar_zeroshot.core.choices import POOLINGS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods import scoring as s


def test_pooling_methods_on_known_logits():
    logits = np.zeros((1, 1000), np.float32)
    logits[0, [0, 1]] = [2.0, 1.0]  # class 0
    logits[0, 10] = 3.0  # class 1, one strong member
    max_logit = s.pool(logits, GROUPS, "max_logit")
    assert max_logit[0, :3].tolist() == [2.0, 3.0, 0.0]
    p = np.exp(logits[0].astype(np.float64)) / np.exp(logits[0].astype(np.float64)).sum()
    np.testing.assert_allclose(s.pool(logits, GROUPS, "sum_prob")[0, 0], p[0] + p[1])
    np.testing.assert_allclose(s.pool(logits, GROUPS, "mean_prob")[0, 1], (p[10] + p[11]) / 2)
    # Class 0's two moderate members outweigh class 1's single strong one only when summed.
    assert s.top1(s.pool(logits, GROUPS, "max_logit"))[0] == 1
    assert s.top1(s.pool(logits, GROUPS, "sum_prob"))[0] == 1
    logits[0, 1] = 2.9
    assert s.top1(s.pool(logits, GROUPS, "sum_prob"))[0] == 0
    assert s.top1(s.pool(logits, GROUPS, "max_logit"))[0] == 1


def test_softmax_is_stable_for_huge_logits():
    logits = np.full((1, 1000), -1e30, np.float32)
    logits[0, 5] = 3e38
    probabilities = s.softmax(logits)
    assert np.isfinite(probabilities).all()
    assert probabilities[0, 5] == 1.0


def test_topk_and_ties_go_to_the_lower_class():
    scores = np.array([[0.0, 1.0, 1.0, 0.5] + [0.0] * 6, [9.0] * 10])
    assert s.ranking(scores, 3).tolist() == [[1, 2, 3], [0, 1, 2]]
    labels = np.array([2, 4])
    assert s.topk_correct(scores, labels, 1).tolist() == [False, False]
    assert s.topk_correct(scores, labels, 2).tolist() == [True, False]
    assert s.topk_correct(scores, labels, 5).tolist() == [True, True]


def test_unrestricted_and_outside_share():
    # Winners: in class 0's group, in class 1's group, unmapped (500), class 3's group.
    logits = one_hot_logits([1, 10, 500, 30])
    labels = np.array([0, 2, 5, 3])
    hit, outside = s.unrestricted(logits, labels, GROUPS)
    assert hit.tolist() == [True, False, False, True]
    assert outside.tolist() == [False, False, True, False]
    lookup = s.imagenet_to_cifar(GROUPS)
    assert lookup[11] == 1 and lookup[12] == -1 and (lookup == -1).sum() == 980


def test_unknown_pooling_and_empty_group_are_user_errors():
    with pytest.raises(UserError, match="Unknown pooling 'median'"):
        s.pool(np.zeros((1, 1000)), GROUPS, "median")
    with pytest.raises(UserError, match="class 3 has no ImageNet classes"):
        s.pool(np.zeros((1, 1000)), [*GROUPS[:3], np.array([], int), *GROUPS[4:]], "max_logit")


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (7, 10), (1, 3), (873, 1000), (5, 9999)])
def test_wilson_matches_scipy(k, n):
    expected = binomtest(k, n).proportion_ci(method="wilson")
    low, high = s.wilson_interval(k, n)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_wilson_without_trials_is_nan():
    assert all(math.isnan(x) for x in s.wilson_interval(0, 0))


def test_share_without_trials_is_nan():
    assert s.share(3, 4) == 0.75
    assert math.isnan(s.share(0, 0))


@pytest.mark.parametrize("pooling", POOLINGS)
def test_accuracies_match_sklearn_on_random_logits(pooling):
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((400, 1000)).astype(np.float32) * 3
    labels = rng.integers(0, 10, 400)
    scores = s.pool(logits, GROUPS, pooling)
    predicted = s.top1(scores)
    assert s.topk_correct(scores, labels, 1).mean() == pytest.approx(
        accuracy_score(labels, predicted)
    )
    assert s.topk_correct(scores, labels, 5).mean() == pytest.approx(
        top_k_accuracy_score(labels, scores, k=5, labels=np.arange(10))
    )
    np.testing.assert_array_equal(
        s.confusion_matrix(labels, predicted, 10),
        confusion_matrix(labels, predicted, labels=range(10)),
    )


def test_pool_all_matches_pool():
    logits = np.random.default_rng(3).standard_normal((20, 1000)).astype(np.float32)
    pooled = s.pool_all(logits, GROUPS)
    assert tuple(pooled) == POOLINGS
    for pooling, scores in pooled.items():
        np.testing.assert_array_equal(scores, s.pool(logits, GROUPS, pooling))


def test_agreement():
    assert s.agreement(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75
