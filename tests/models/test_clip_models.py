"""CLIP models built untrained: repeatable, with the tag's settings; the image tower on them.

The demo architecture, ViT-B-32 with the openai tag, is built untrained once for the module.
"""

import copy

import open_clip
import pytest
import torch
from test_clip_preprocess import OPENAI_MEAN, OPENAI_STD, assert_matches_open_clip

from cifar_zeroshot.models.clip_models import (
    ImageTower,
    clip_preprocess_spec,
    embedding_width,
    load_clip_model,
)
from cifar_zeroshot.models.clip_names import ClipSpec
from cifar_zeroshot.models.preprocess import PreprocessSpec

DEMO = ClipSpec("ViT-B-32", "openai")
DEMO_WIDTH = 512  # ViT-B-32's embed_dim in open_clip's model config


@pytest.fixture(scope="module")
def demo_model() -> torch.nn.Module:
    return load_clip_model(DEMO, untrained=True)


def test_untrained_model_is_repeatable_and_leaves_the_random_stream(demo_model) -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    again = load_clip_model(DEMO, untrained=True)
    assert torch.equal(torch.rand(3), expected_next)
    assert not demo_model.training and not again.training
    for (key, a), b in zip(
        demo_model.state_dict().items(), again.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), key


def test_openai_tag_builds_the_architecture_with_quick_gelu(demo_model) -> None:
    # open_clip's ViT-B-32 config uses GELU; the OpenAI weights were trained with QuickGELU.
    assert not open_clip.get_model_config("ViT-B-32").get("quick_gelu", False)
    quick = [m for m in demo_model.modules() if isinstance(m, open_clip.transformer.QuickGELU)]
    assert len(quick) == 24  # one per block of the 12-layer image and text transformers


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
