"""ECE, NLL and Brier by hand, held against torchmetrics and scikit-learn on the same numbers."""

import numpy as np
import pytest
import torch
from sklearn.metrics import brier_score_loss, log_loss
from torchmetrics.classification import MulticlassCalibrationError

from cifar_zeroshot.methods.calibration import (
    ECE_BINS,
    brier_score,
    calibration_figures,
    expected_calibration_error,
    negative_log_likelihood,
    reliability_bins,
)
from cifar_zeroshot.methods.scoring import softmax


def _sample(seed: int, n: int = 500, sharpness: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    logits = sharpness * rng.normal(size=(n, 10))
    logits[np.arange(n), labels] += rng.normal(1.0, 1.0, n)  # right more often than chance
    return softmax(logits), labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ece_matches_torchmetrics(seed):
    probabilities, labels = _sample(seed)
    reference = MulticlassCalibrationError(num_classes=10, n_bins=ECE_BINS, norm="l1")
    expected = float(reference(torch.from_numpy(probabilities), torch.from_numpy(labels)))
    assert expected_calibration_error(probabilities, labels) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nll_and_brier_match_scikit_learn(seed):
    probabilities, labels = _sample(seed)
    classes = list(range(10))
    assert negative_log_likelihood(probabilities, labels) == pytest.approx(
        log_loss(labels, probabilities, labels=classes), rel=1e-12
    )
    assert brier_score(probabilities, labels) == pytest.approx(
        brier_score_loss(labels, probabilities, labels=classes), rel=1e-12
    )


def test_perfect_and_uniform_predictions_by_hand():
    labels = np.array([0, 1, 2, 3])
    perfect = np.eye(10)[labels]
    assert calibration_figures(perfect, labels) == pytest.approx(
        {"ece": 0.0, "nll": 0.0, "brier": 0.0}, abs=1e-12
    )
    uniform = np.full((4, 10), 0.1)
    # Top probability 0.1 in bin (1/15, 2/15]; the first class is "predicted", right once in 4.
    figures = calibration_figures(uniform, labels)
    assert figures["ece"] == pytest.approx(abs(0.25 - 0.1))
    assert figures["nll"] == pytest.approx(np.log(10))
    assert figures["brier"] == pytest.approx(0.9**2 + 9 * 0.01)


def test_reliability_bins_count_every_image_once():
    probabilities, labels = _sample(3)
    table = reliability_bins(probabilities, labels)
    assert table.images.sum() == len(labels)
    assert table.correct.sum() == int((probabilities.argmax(axis=1) == labels).sum())
    assert len(table.edges) == ECE_BINS + 1
    # A top probability on an edge belongs to the bin it closes: (m-1)/15 < p <= m/15.
    edge = np.zeros((1, 10))
    edge[0, 0], edge[0, 1:] = 0.6, 0.4 / 9
    assert reliability_bins(edge, np.array([0])).images[8] == 1  # 0.6 = 9/15
