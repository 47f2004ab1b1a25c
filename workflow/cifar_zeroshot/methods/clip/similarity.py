"""CLIP zero-shot scores: the cosine similarity of each image embedding to each class embedding."""

import numpy as np

from cifar_zeroshot.core.errors import UserError

__all__ = ["prompt_scores"]

# Below this norm an embedding is treated as zero (scores 0), instead of dividing by zero.
_TINY_NORM = 1e-12


def _unit_rows(name: str, embeddings: np.ndarray) -> np.ndarray:
    array = np.asarray(embeddings, dtype=np.float64)
    if array.ndim != 2:
        raise UserError(
            f"{name} must be a 2-D array [count, width], got shape {array.shape}: pass the "
            "embeddings the CLIP model produced, one row each."
        )
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.maximum(norms, _TINY_NORM)


def prompt_scores(image_embeddings: np.ndarray, class_embeddings: np.ndarray) -> np.ndarray:
    """float32 [N, classes]: cosine similarities; both sides are normalised again, defensively."""
    images = _unit_rows("image embeddings", image_embeddings)
    classes = _unit_rows("class embeddings", class_embeddings)
    if images.shape[1] != classes.shape[1]:
        raise UserError(
            f"The image embeddings are {images.shape[1]} wide but the class embeddings "
            f"{classes.shape[1]}: they come from different CLIP models. Compute both with the "
            "same model (rerun the model's inference and its class embeddings)."
        )
    return (images @ classes.T).astype(np.float32)
