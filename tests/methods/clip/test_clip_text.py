"""Class embeddings by prompt ensembling, against a direct computation from encode_text."""

import numpy as np
import open_clip
import pytest
import torch

from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.methods.clip.prompts import ClipPrompts
from cifar_zeroshot.methods.clip.text import class_embeddings
from cifar_zeroshot.models.clip.names import ClipSpec
from cifar_zeroshot.models.clip.weights import load_clip_model

DEMO = ClipSpec("ViT-B-32", "openai")
# Two templates keep the text tower's work small; the ensembling is the same for eighteen.
PROMPTS = ClipPrompts(("a photo of a {}.", "a blurry photo of the {} in the wild"), CIFAR10_CLASSES)


@pytest.fixture(scope="module")
def demo_model() -> torch.nn.Module:
    return load_clip_model(DEMO, untrained=True)


def _direct(model: torch.nn.Module) -> np.ndarray:
    """The CLIP paper's ensembling written out in numpy, one class at a time."""
    texts = PROMPTS.texts()
    tokens = open_clip.get_tokenizer(DEMO.architecture)([t for per in texts for t in per])
    with torch.inference_mode():
        encoded = model.encode_text(tokens).numpy().astype(np.float64)
    rows = []
    for index in range(len(texts)):
        per_class = encoded[index * 2 : index * 2 + 2]  # its two prompts
        unit = per_class / np.sqrt((per_class**2).sum(axis=1, keepdims=True))
        mean = unit.mean(axis=0)
        rows.append(mean / np.sqrt((mean**2).sum()))
    return np.stack(rows)


def test_class_embeddings_are_the_ensembled_prompt_embeddings(demo_model) -> None:
    embeddings = class_embeddings(demo_model, DEMO.architecture, PROMPTS)

    assert embeddings.shape == (10, 512) and embeddings.dtype == np.float32
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-6)
    assert np.allclose(embeddings, _direct(demo_model), atol=1e-5)
    again = class_embeddings(demo_model, DEMO.architecture, PROMPTS, device="cpu")
    assert np.array_equal(embeddings, again)
