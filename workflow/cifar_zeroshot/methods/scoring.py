"""Pure scoring arithmetic on arrays: softmax, pooling, rankings, intervals, confusion counts.

No files and no tables: everything here maps arrays to arrays or numbers, so it can be checked
against reference implementations (scikit-learn, SciPy) on hand-made inputs.

Scores for the 10 CIFAR-10 classes are pooled from the 1000 ImageNet logits over each class's
mapped ImageNet classes (its "group"). Ties in a ranking go to the lower class index: rankings
use a stable sort of the negated scores, as np.argmax does for top-1.
"""

import math
import statistics
from collections.abc import Sequence

import numpy as np

from cifar_zeroshot.core.choices import POOLINGS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_IMAGENET_CLASSES

CONFIDENCE = 0.95
# Two-sided 95 % normal quantile, about 1.959964.
_Z = statistics.NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis in float64, shifted by the row maximum so exp cannot overflow."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


def check_groups(groups: Sequence[np.ndarray]) -> None:
    """Refuse a class without ImageNet members: its pooled score would be undefined."""
    for k, group in enumerate(groups):
        if len(group) == 0:
            raise UserError(
                f"CIFAR-10 class {k} has no ImageNet classes to pool from: give it at least one "
                "member in the class mapping."
            )


def _pool_probabilities(
    probabilities: np.ndarray, groups: Sequence[np.ndarray], pooling: str
) -> np.ndarray:
    reduce = np.mean if pooling == "mean_prob" else np.sum
    return np.stack([reduce(probabilities[:, np.asarray(g)], axis=1) for g in groups], axis=1)


def pool(logits: np.ndarray, groups: Sequence[np.ndarray], pooling: str) -> np.ndarray:
    """Scores [N, len(groups)] (float64) for the CIFAR-10 classes from ImageNet logits [N, 1000].

    max_logit: the largest member logit; mean_prob / sum_prob: the mean / sum of the members'
    softmax probabilities, the softmax taken over all 1000 ImageNet classes.
    """
    if pooling not in POOLINGS:
        raise UserError(f"Unknown pooling {pooling!r}: use one of {', '.join(POOLINGS)}.")
    check_groups(groups)
    if pooling == "max_logit":
        source = np.asarray(logits)
        scores = np.stack([source[:, np.asarray(g)].max(axis=1) for g in groups], axis=1)
        return scores.astype(np.float64)
    return _pool_probabilities(softmax(logits), groups, pooling)


def pool_all(logits: np.ndarray, groups: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """pool() for every pooling, with one softmax shared by the probability poolings."""
    probabilities = softmax(logits)
    return {
        "max_logit": pool(logits, groups, "max_logit"),
        "mean_prob": _pool_probabilities(probabilities, groups, "mean_prob"),
        "sum_prob": _pool_probabilities(probabilities, groups, "sum_prob"),
    }


def ranking(scores: np.ndarray, k: int) -> np.ndarray:
    """The k best columns per row, best first; ties go to the lower column (stable sort)."""
    return np.argsort(-np.asarray(scores), axis=1, kind="stable")[:, :k]


def top1(scores: np.ndarray) -> np.ndarray:
    return ranking(scores, 1)[:, 0]


def topk_correct(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per image: whether the true label is among the k best-scored classes."""
    return (ranking(scores, k) == np.asarray(labels)[:, None]).any(axis=1)


def share(successes: int, trials: int) -> float:
    """successes / trials, NaN without trials (an empty cell rather than a made-up zero)."""
    return successes / trials if trials else math.nan


MIB = 2**20  # the tables state memory in MiB


def table_figure(value: float | None, unit: float = 1.0) -> float:
    """value / unit for a table cell; NaN (an empty cell) where the figure does not apply."""
    return math.nan if value is None else float(value) / unit


def imagenet_to_cifar(groups: Sequence[np.ndarray]) -> np.ndarray:
    """[1000] CIFAR-10 class of each ImageNet class, -1 where it belongs to no group."""
    lookup = np.full(NUM_IMAGENET_CLASSES, -1, dtype=np.int64)
    for k, group in enumerate(groups):
        lookup[np.asarray(group, dtype=np.int64)] = k
    return lookup


def unrestricted(
    logits: np.ndarray, labels: np.ndarray, groups: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per image: (argmax over all 1000 classes is in the true class's group, is in no group)."""
    mapped = imagenet_to_cifar(groups)[np.argmax(logits, axis=1)]
    return mapped == np.asarray(labels), mapped == -1


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score interval (95 %) for a binomial proportion; (nan, nan) when trials == 0.

    With p = k/n and z the normal quantile: centre (2np + z^2) / (2(n + z^2)), half-width
    z / (2(n + z^2)) * sqrt(4np(1-p) + z^2). The bounds are exactly 0 and 1 at k = 0 and k = n.
    """
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    denominator = 2 * (trials + _Z**2)
    centre = (2 * trials * p + _Z**2) / denominator
    half = _Z / denominator * math.sqrt(4 * trials * p * (1 - p) + _Z**2)
    low = 0.0 if successes == 0 else centre - half
    high = 1.0 if successes == trials else centre + half
    return low, high


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """[classes, classes] counts; rows are true classes, columns predicted ones."""
    flat = np.asarray(labels, dtype=np.int64) * classes + np.asarray(predicted, dtype=np.int64)
    return np.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def agreement(predicted: np.ndarray, reference: np.ndarray) -> float:
    """Share of images on which two runs predict the same top-1 class."""
    return float(np.mean(np.asarray(predicted) == np.asarray(reference)))


def class_recalls(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """[classes] share of each class's images predicted as it; NaN for a class without images."""
    counts = confusion_matrix(labels, predicted, classes)
    support = counts.sum(axis=1)
    hits = np.diag(counts).astype(np.float64)
    return np.divide(hits, support, out=np.full(classes, np.nan), where=support > 0)


def balanced_accuracy(recalls: np.ndarray) -> float:
    """The mean recall over the classes that have images (NaN when none has)."""
    present = recalls[~np.isnan(recalls)]
    return float(present.mean()) if present.size else math.nan


def worst_class(recalls: np.ndarray) -> tuple[int, float]:
    """(class, recall) of the lowest recall among classes with images, the lower class on a
    tie; (-1, NaN) when no class has images."""
    if np.isnan(recalls).all():
        return -1, math.nan
    k = int(np.nanargmin(recalls))
    return k, float(recalls[k])
