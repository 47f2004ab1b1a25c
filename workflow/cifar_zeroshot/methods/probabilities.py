"""The 10-class probabilities each scoring method implies, for calibration (ECE, NLL, Brier).

- class mapping, mean_prob / sum_prob: the pooled ImageNet probabilities renormalised over the
  10 classes (the mass of the unmapped ImageNet classes is dropped);
- class mapping, max_logit: the softmax of the 10 pooled (largest member) logits;
- linear probe: the softmax of its 10 logits;
- CLIP prompt similarity: the softmax of the cosine similarities times the model's own learned
  logit scale (100 for OpenAI's weights), as CLIP itself turns similarities into probabilities.

Each method computes its probabilities once, beside its scores (MethodScores.probabilities); the
top-1 class of the probabilities is the top-1 class of the scores.
"""

import numpy as np

from cifar_zeroshot.methods.scoring import softmax


def mapping_probabilities(pooled: np.ndarray, pooling: str) -> np.ndarray:
    """float64 [N, 10] from the class mapping's pooled scores under ``pooling``."""
    if pooling == "max_logit":
        return softmax(pooled)
    pooled = np.asarray(pooled, dtype=np.float64)
    total = pooled.sum(axis=1, keepdims=True)
    # A row whose mapped classes all underflowed to 0 says nothing: uniform, not 0/0.
    uniform = np.full_like(pooled, 1.0 / pooled.shape[1])
    return np.where(total > 0, pooled / np.where(total > 0, total, 1.0), uniform)


def probe_probabilities(logits: np.ndarray) -> np.ndarray:
    """float64 [N, 10]: the softmax of the probe's logits."""
    return softmax(logits)


def clip_probabilities(cosines: np.ndarray, logit_scale: float) -> np.ndarray:
    """float64 [N, 10]: the softmax of ``logit_scale`` times the cosine similarities."""
    return softmax(float(logit_scale) * np.asarray(cosines, dtype=np.float64))
