"""The image tower on a CLIP model, its embedding width and its preprocessing.

The demo architecture, ViT-B-32 with the openai tag, is built untrained once for the module.
"""

import copy

import open_clip
import pytest
import torch
from preprocess_checks import OPENAI_MEAN, OPENAI_STD, assert_matches_open_clip

from cifar_zeroshot.models.clip.names import ClipSpec
from cifar_zeroshot.models.clip.preprocess import clip_preprocess_spec
from cifar_zeroshot.models.clip.tower import ImageTower, embedding_width
from cifar_zeroshot.models.clip.weights import load_clip_model
from cifar_zeroshot.models.preprocess import PreprocessSpec

DEMO = ClipSpec("ViT-B-32", "openai")
DEMO_WIDTH = 512  # ViT-B-32's embed_dim in open_clip's model config


@pytest.fixture(scope="module")
def demo_model() -> torch.nn.Module:
    return load_clip_model(DEMO, untrained=True)


def test_image_tower_gives_unit_embeddings_of_the_model_width(demo_model) -> None:
    assert embedding_width(demo_model) == DEMO_WIDTH
    images = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        out = ImageTower(demo_model)(images)
        raw = demo_model.encode_image(images)
    assert out.shape == (2, DEMO_WIDTH) and out.dtype == torch.float32
    assert torch.allclose(out.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert torch.allclose(out, raw / raw.norm(dim=-1, keepdim=True), atol=1e-6)


def test_image_tower_in_bf16_and_under_torch_compile(demo_model) -> None:
    images = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    tower = ImageTower(demo_model)
    with torch.inference_mode():
        reference = tower(images)
        # fullgraph: the whole forward is one graph, nothing falls back to Python.
        compiled = torch.compile(tower, backend="eager", fullgraph=True)(images)
        bf16_tower = ImageTower(copy.deepcopy(demo_model)).to(torch.bfloat16)
        bf16 = bf16_tower(images.to(torch.bfloat16))
    assert torch.allclose(compiled, reference, atol=1e-6)
    assert bf16.dtype == torch.float32
    assert torch.allclose(bf16.norm(dim=-1), torch.ones(1), atol=1e-5)
    assert torch.nn.functional.cosine_similarity(bf16, reference).min() > 0.99


def test_demo_preprocessing_is_openai_clips_and_matches_open_clip(demo_model) -> None:
    spec = clip_preprocess_spec(demo_model)
    assert spec == PreprocessSpec(224, 224, OPENAI_MEAN, OPENAI_STD, "bicubic", True)
    assert_matches_open_clip(spec, open_clip.get_model_preprocess_cfg(demo_model), seed=2)
