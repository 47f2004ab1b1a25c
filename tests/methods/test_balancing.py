"""Tests for label-free prior balancing (methods/balancing.py, methods/balanced.py)."""

import numpy as np
import pytest
import torch
from run_files import GROUPS, make_facts
from scipy.optimize import minimize
from scipy.special import logsumexp
from torchmetrics.classification import MulticlassAccuracy

from cifar_zeroshot.methods.balanced import balanced_variant
from cifar_zeroshot.methods.balancing import (
    ALL_IMAGES,
    CROSS_FITTED,
    apply_offsets,
    balance,
    fit_balancing_offsets,
    log_softmax,
    split_halves,
    uniform_prior,
)
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.methods.interface import RunOutputs
from cifar_zeroshot.methods.scoring import balanced_accuracy, class_recalls, worst_class

K = 10
PRIOR = uniform_prior(K)


def _class_conditional(n_per_class=2000, seed=0):
    """Log-probabilities of a calibrated model on a balanced set: the posteriors of Gaussian
    class-conditional scores under the equal prior, and the labels drawn."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(K), n_per_class)
    means = 1.5 * np.eye(K)
    x = means[labels] + rng.standard_normal((len(labels), K))
    # log p(y | x) under equal priors and unit-variance Gaussians: softmax of x . mu_y - |mu|^2/2.
    log_probs = log_softmax(x @ means.T - 0.5 * (means**2).sum(axis=1))
    return log_probs, labels


def test_planted_offsets_are_recovered():
    log_probs, _ = _class_conditional()
    planted = np.array([2.0, -1.0, 0.5, 0.0, -2.0, 1.5, -0.5, 0.3, -0.8, 1.0])
    planted -= planted.mean()
    biased = apply_offsets(log_probs, planted)
    fit = fit_balancing_offsets(biased, PRIOR, tol=1e-12)
    assert fit.converged and fit.max_marginal_error <= 1e-12
    # The correction undoes the plant up to the sampling noise of 20,000 images: within 0.05.
    np.testing.assert_allclose(fit.offsets, -planted, atol=0.05)
    assert abs(fit.offsets.mean()) < 1e-12


def test_the_fit_agrees_with_the_convex_dual():
    rng = np.random.default_rng(3)
    log_probs = log_softmax(3 * rng.standard_normal((500, K)) + np.linspace(-2, 2, K))
    prior = rng.dirichlet(5 * np.ones(K))
    fit = fit_balancing_offsets(log_probs, prior, tol=1e-13, max_iter=100_000)

    # The fixed point is the minimum of f(b) = mean_i logsumexp(log p_i + b) - prior . b.
    def dual(b):
        shifted = log_probs + b
        value = logsumexp(shifted, axis=1).mean() - prior @ b
        gradient = np.exp(shifted - logsumexp(shifted, axis=1, keepdims=True)).mean(0) - prior
        return value, gradient

    solved = minimize(dual, np.zeros(K), jac=True, method="BFGS", options={"gtol": 1e-13})
    reference = solved.x - solved.x.mean()
    assert fit.converged
    np.testing.assert_allclose(fit.offsets, reference, atol=1e-6)


def _run(log_probs, labels):
    logits = np.full((len(labels), 1000), -30.0, dtype=np.float32)
    for k, group in enumerate(GROUPS):
        logits[:, group[0]] = log_probs[:, k]
    return RunOutputs(make_facts(image_count=len(labels)), np.arange(len(labels)), labels, logits)


@pytest.mark.parametrize("fit", [CROSS_FITTED, ALL_IMAGES])
def test_no_label_is_read(fit):
    log_probs, labels = _class_conditional(n_per_class=50, seed=1)
    biased = apply_offsets(log_probs, np.linspace(-1, 1, K))
    method = balanced_variant(ClassMappingMethod, fit, ("max_logit",))(
        ClassMappingMethod(GROUPS, "max_logit")
    )
    shuffled = np.random.default_rng(0).permutation(labels)
    first, second = method.score(_run(biased, labels)), method.score(_run(biased, shuffled))
    np.testing.assert_array_equal(first.scores, second.scores)
    np.testing.assert_array_equal(first.probabilities, second.probabilities)
    for (name, a), (other, b) in zip(first.balancing, second.balancing, strict=True):
        assert name == other
        np.testing.assert_array_equal(a.fit.offsets, b.fit.offsets)
    # The labels are a balanced set's, as the fit assumes (a test's assertion, not the fit's).
    assert set(np.bincount(labels)) == {50}


def test_cross_fitting_never_uses_an_image_own_output():
    log_probs, _ = _class_conditional(n_per_class=30, seed=2)
    even, odd = split_halves(len(log_probs))
    assert len(even) == len(odd) and not set(even) & set(odd)
    before = balance(log_probs, PRIOR, CROSS_FITTED)
    changed = log_probs.copy()
    image = odd[7]
    changed[image] = log_softmax(np.arange(K, dtype=float)[None, :] * 3)[0]
    after = balance(changed, PRIOR, CROSS_FITTED)
    # The offsets applied to the odd half come from the even half: unchanged, and so is the
    # changed image's balanced output relative to its own new input.
    applied_to_odd = next(f for f in before.fits if f.applied_to == "odd positions")
    applied_to_odd_after = next(f for f in after.fits if f.applied_to == "odd positions")
    np.testing.assert_array_equal(applied_to_odd.fit.offsets, applied_to_odd_after.fit.offsets)
    np.testing.assert_allclose(
        after.log_probs[image], apply_offsets(changed[[image]], applied_to_odd.fit.offsets)[0]
    )
    # The other half's offsets were fitted on the changed image, so they move.
    moved = next(f for f in after.fits if f.applied_to == "even positions").fit.offsets
    original = next(f for f in before.fits if f.applied_to == "even positions").fit.offsets
    assert not np.allclose(moved, original)
    # Fitted on all images, the same image moves its own offsets.
    assert not np.allclose(
        balance(changed, PRIOR, ALL_IMAGES).fits[0].fit.offsets,
        balance(log_probs, PRIOR, ALL_IMAGES).fits[0].fit.offsets,
    )


def test_balancing_makes_the_marginal_the_prior_and_helps_a_biased_model():
    log_probs, labels = _class_conditional(n_per_class=200, seed=4)
    biased = apply_offsets(log_probs, np.array([3.0, 2, 1, 0, 0, 0, -1, -2, -3, 0]))
    balanced = balance(biased, PRIOR, ALL_IMAGES)
    np.testing.assert_allclose(np.exp(balanced.log_probs).mean(0), PRIOR, atol=1e-8)
    before = balanced_accuracy(class_recalls(labels, biased.argmax(1), K))
    after = balanced_accuracy(class_recalls(labels, balanced.log_probs.argmax(1), K))
    assert after > before + 0.1


def test_balanced_accuracy_matches_torchmetrics():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, K, 400)
    predicted = np.where(rng.random(400) < 0.6, labels, rng.integers(0, K, 400))
    recalls = class_recalls(labels, predicted, K)
    reference = MulticlassAccuracy(num_classes=K, average="macro")(
        torch.from_numpy(predicted), torch.from_numpy(labels)
    )
    assert balanced_accuracy(recalls) == pytest.approx(float(reference), abs=1e-6)
    per_class = MulticlassAccuracy(num_classes=K, average=None)(
        torch.from_numpy(predicted), torch.from_numpy(labels)
    ).numpy()
    k, lowest = worst_class(recalls)
    assert lowest == pytest.approx(per_class.min(), abs=1e-6) and k == int(per_class.argmin())


def test_refusals():
    with pytest.raises(ValueError, match="sum to 1"):
        fit_balancing_offsets(np.zeros((3, K)), np.ones(K))
    with pytest.raises(ValueError, match="at least 2 images"):
        balance(np.zeros((1, K)), PRIOR, CROSS_FITTED)
    with pytest.raises(ValueError, match="unknown balancing fit"):
        balance(np.zeros((4, K)), PRIOR, "half")
