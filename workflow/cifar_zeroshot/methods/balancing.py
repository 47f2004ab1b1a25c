"""Label-free prior balancing: per-class offsets on log-probabilities that make a set's mean
predicted distribution equal a known class prior (docs/balanced-zero-shot.md).

The offsets b solve mean_i softmax(log p_i + b) = prior, found by iterative proportional fitting
of the marginals, b_k <- b_k + log prior_k - log mean_i softmax(log p_i + b)_k (the EM of
Saerens, Latinne & Decaestecker 2002 with the target prior known). Only the outputs are read,
never a label; the correction is transductive (it reads the set it scores), so it comes in two
fits: "cross_fitted", where each half of the images is scored with the offsets fitted on the
other half (no image's own output sets its offsets), and "all", fitted on every image scored.

Pure numpy: arrays in, arrays out.
"""

from dataclasses import dataclass

import numpy as np

CROSS_FITTED = "cross_fitted"
ALL_IMAGES = "all"
BALANCING_FITS: tuple[str, ...] = (CROSS_FITTED, ALL_IMAGES)

DEFAULT_TOLERANCE = 1e-9  # on the largest |mean predicted share - prior share|
DEFAULT_MAX_ITERATIONS = 20_000

# The halves of the cross-fitted scheme: rows at even and odd positions in the order given (the
# runs' rows are sorted by image_index, so the split is fixed by the images, not by any label).
HALF_NAMES: tuple[str, str] = ("even positions", "odd positions")


@dataclass(frozen=True)
class BalancingFit:
    offsets: np.ndarray  # float64 [K], centred to mean 0 (only differences matter)
    iterations: int
    converged: bool
    # max_k |mean_i softmax(log p_i + offsets)_k - prior_k| at the returned offsets
    max_marginal_error: float


@dataclass(frozen=True)
class AppliedFit:
    """One fit and where it was used: fitted on some rows, applied to some rows."""

    fit: BalancingFit
    fitted_on: str  # "all images", "even positions", "odd positions"
    applied_to: str
    fitted_images: int
    applied_images: int


@dataclass(frozen=True)
class Balanced:
    log_probs: np.ndarray  # float64 [N, K] the balanced log-probabilities
    fits: tuple[AppliedFit, ...]


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """float64 log of [N, K] probabilities; a probability that underflowed to 0 becomes the
    smallest positive float, so an offset can still move it and no row is all -inf."""
    p = np.asarray(probabilities, dtype=np.float64)
    return np.log(np.maximum(p, np.finfo(np.float64).tiny))


def apply_offsets(log_probs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The balanced log-probabilities: log softmax(log p + offsets), row by row."""
    return log_softmax(np.asarray(log_probs, dtype=np.float64) + np.asarray(offsets)[None, :])


def _marginal(log_probs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return np.exp(apply_offsets(log_probs, offsets)).mean(axis=0)


def fit_balancing_offsets(
    log_probs: np.ndarray,
    prior: np.ndarray,
    tol: float = DEFAULT_TOLERANCE,
    max_iter: int = DEFAULT_MAX_ITERATIONS,
) -> BalancingFit:
    """Offsets b [K] with mean_i softmax(log_probs_i + b) = prior (within ``tol`` on every
    class), by the fixed point b_k <- b_k + log prior_k - log marginal_k."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    if log_probs.ndim != 2 or log_probs.shape[0] == 0 or log_probs.shape[1] != prior.shape[0]:
        raise ValueError(f"need log-probabilities [N>0, {prior.shape[0]}], got {log_probs.shape}")
    if np.any(prior <= 0) or not np.isclose(prior.sum(), 1.0):
        raise ValueError(f"the prior must be positive and sum to 1, got {prior}")
    offsets = np.zeros(prior.shape[0])
    marginal = _marginal(log_probs, offsets)
    error = float(np.abs(marginal - prior).max())
    iterations = 0
    while error > tol and iterations < max_iter:
        offsets = offsets + np.log(prior) - np.log(marginal)
        offsets -= offsets.mean()
        marginal = _marginal(log_probs, offsets)
        error = float(np.abs(marginal - prior).max())
        iterations += 1
    return BalancingFit(offsets, iterations, error <= tol, error)


def split_halves(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of the two halves: even and odd positions in the rows' order."""
    rows = np.arange(n)
    return rows[0::2], rows[1::2]


def can_cross_fit(n: int) -> bool:
    """Both halves hold an image (each is fitted on the other)."""
    return n >= 2


def balance(
    log_probs: np.ndarray,
    prior: np.ndarray,
    fit: str,
    tol: float = DEFAULT_TOLERANCE,
    max_iter: int = DEFAULT_MAX_ITERATIONS,
) -> Balanced:
    """``log_probs`` balanced to ``prior`` with offsets fitted as ``fit`` says: on every row
    ("all"), or each half with the other half's offsets ("cross_fitted")."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    n = log_probs.shape[0]
    if fit == ALL_IMAGES:
        result = fit_balancing_offsets(log_probs, prior, tol, max_iter)
        applied = AppliedFit(result, "all images", "all images", n, n)
        return Balanced(apply_offsets(log_probs, result.offsets), (applied,))
    if fit != CROSS_FITTED:
        raise ValueError(f"unknown balancing fit {fit!r}: use one of {BALANCING_FITS}")
    if not can_cross_fit(n):
        raise ValueError(f"cross-fitting needs at least 2 images, got {n}")
    halves = split_halves(n)
    balanced = np.empty_like(log_probs)
    fits = []
    for fitted, applied in ((0, 1), (1, 0)):
        result = fit_balancing_offsets(log_probs[halves[fitted]], prior, tol, max_iter)
        balanced[halves[applied]] = apply_offsets(log_probs[halves[applied]], result.offsets)
        fits.append(
            AppliedFit(
                result,
                HALF_NAMES[fitted],
                HALF_NAMES[applied],
                len(halves[fitted]),
                len(halves[applied]),
            )
        )
    return Balanced(balanced, tuple(fits))


def uniform_prior(classes: int) -> np.ndarray:
    return np.full(classes, 1.0 / classes)
