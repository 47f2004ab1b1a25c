"""Calibration of 10-class probabilities: ECE, negative log-likelihood, Brier score, reliability.

- ECE (Guo et al. 2017, "On Calibration of Modern Neural Networks"): the top probability of each
  image goes into one of M equal-width bins ((m-1)/M, m/M] (M = 15 as Guo et al., the config key
  calibration_bins); ECE is the image-weighted mean of
  |accuracy - mean top probability| over the bins (L1). The top class is the first of equal
  probabilities, as np.argmax picks it.
- NLL: the mean of -log p(true class), p clipped below at float64's machine epsilon as
  scikit-learn's log_loss clips it (a probability of exactly 0 would make it infinite).
- Brier score: the mean over images of the squared distance between the probabilities and the
  one-hot label, summed over the 10 classes (0 is perfect, 2 the worst), as scikit-learn's
  multiclass brier_score_loss.
"""

from dataclasses import dataclass

import numpy as np

ECE_BINS = 15  # the default of the config key calibration_bins
_EPSILON = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class ReliabilityBins:
    """Per bin of the top probability: images, sum of top probabilities, images right."""

    edges: np.ndarray  # [bins + 1], 0 to 1
    images: np.ndarray  # int64 [bins]
    confidence_sum: np.ndarray  # float64 [bins]
    correct: np.ndarray  # int64 [bins]


def _as_arrays(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if p.ndim != 2 or y.shape != (p.shape[0],) or p.shape[0] == 0:
        raise ValueError(
            f"need probabilities [N, classes] and labels [N], got {p.shape}, {y.shape}"
        )
    return p, y


def reliability_bins(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS
) -> ReliabilityBins:
    p, y = _as_arrays(probabilities, labels)
    confidence = p.max(axis=1)
    right = p.argmax(axis=1) == y
    # Bin m holds (m/bins, (m+1)/bins]; a top probability of 0 (impossible for a distribution)
    # would go to the first bin.
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    return ReliabilityBins(
        edges=np.linspace(0.0, 1.0, bins + 1),
        images=np.bincount(index, minlength=bins),
        confidence_sum=np.bincount(index, weights=confidence, minlength=bins),
        correct=np.bincount(index, weights=right, minlength=bins).astype(np.int64),
    )


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS
) -> float:
    table = reliability_bins(probabilities, labels, bins)
    gap = np.abs(table.correct - table.confidence_sum)  # per bin: images x |accuracy - confidence|
    return float(gap.sum() / table.images.sum())


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    p, y = _as_arrays(probabilities, labels)
    true = np.clip(p[np.arange(len(y)), y], _EPSILON, 1.0)
    return float(-np.log(true).mean())


def brier_score(probabilities: np.ndarray, labels: np.ndarray) -> float:
    p, y = _as_arrays(probabilities, labels)
    one_hot = np.zeros_like(p)
    one_hot[np.arange(len(y)), y] = 1.0
    return float(np.square(p - one_hot).sum(axis=1).mean())


def calibration_figures(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS
) -> dict[str, float]:
    """The metrics.csv columns ece (over ``bins`` bins), nll and brier."""
    return {
        "ece": expected_calibration_error(probabilities, labels, bins),
        "nll": negative_log_likelihood(probabilities, labels),
        "brier": brier_score(probabilities, labels),
    }
