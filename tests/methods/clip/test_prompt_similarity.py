"""Zero-shot scores: cosine similarities, against an independent computation."""

import math

import numpy as np
import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.clip.similarity import prompt_scores


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    dot = sum(float(x) * float(y) for x, y in zip(a, b, strict=True))
    return dot / (
        math.sqrt(sum(float(x) ** 2 for x in a)) * math.sqrt(sum(float(y) ** 2 for y in b))
    )


def test_scores_are_cosine_similarities_of_unnormalised_inputs() -> None:
    rng = np.random.default_rng(0)
    images = rng.normal(size=(7, 16)) * rng.uniform(0.1, 5.0, size=(7, 1))
    classes = rng.normal(size=(10, 16)) * 3.0

    scores = prompt_scores(images.astype(np.float32), classes.astype(np.float32))

    expected = np.array([[_cosine(i, c) for c in classes] for i in images])
    assert scores.shape == (7, 10) and scores.dtype == np.float32
    assert np.allclose(scores, expected, atol=1e-6)
    assert np.array_equal(scores.argmax(axis=1), expected.argmax(axis=1))


def test_a_zero_embedding_scores_zero_not_nan() -> None:
    images = np.zeros((1, 4), dtype=np.float32)
    scores = prompt_scores(images, np.eye(4, dtype=np.float32))
    assert np.array_equal(scores, np.zeros((1, 4), dtype=np.float32))


def test_embeddings_of_different_widths_are_refused() -> None:
    with pytest.raises(UserError, match="512 wide but the class embeddings 768.*same model"):
        prompt_scores(np.ones((2, 512)), np.ones((10, 768)))


def test_embeddings_must_be_matrices() -> None:
    with pytest.raises(UserError, match=r"image embeddings must be a 2-D array.*\(512,\)"):
        prompt_scores(np.ones(512), np.ones((10, 512)))
