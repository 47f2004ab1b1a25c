"""CLIP models built untrained (repeatable, with the tag's settings) or with weights from the
Hugging Face cache: loading, a damaged file, and missing files offline."""

import os
import subprocess
import sys
from pathlib import Path

import open_clip
import pytest
import safetensors.torch
import torch
from hub_cache_files import cached_file_path, offline_hub_cache
from planted_files import plant_payload
from workflow_runner import REPO

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.clip.names import ClipSpec
from cifar_zeroshot.models.clip.weights import load_clip_model

DEMO = ClipSpec("ViT-B-32", "openai")
DEMO_REPO = "timm/vit_base_patch32_clip_224.openai"  # the openai tag's hf_hub entry
WORKFLOW = REPO / "workflow"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return offline_hub_cache(tmp_path, monkeypatch)


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


def test_missing_weights_offline_say_where_the_cache_expects_them(tmp_path: Path) -> None:
    """A fresh process, so HF_HOME and HF_HUB_OFFLINE apply as they do for a real job."""
    script = (
        "from cifar_zeroshot.models.clip.weights import load_clip_model\n"
        "from cifar_zeroshot.models.clip.names import ClipSpec\n"
        "from cifar_zeroshot.core.errors import UserError\n"
        "try:\n"
        "    load_clip_model(ClipSpec('ViT-B-32', 'openai'), untrained=False)\n"
        "except UserError as error:\n"
        "    print(error)\n"
        "else:\n"
        "    raise SystemExit('no UserError')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HOME=str(tmp_path), HF_HUB_OFFLINE="1", PYTHONPATH=str(WORKFLOW))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    message = done.stdout
    assert "clip:ViT-B-32/openai" in message and "architecture ViT-B-32, tag openai" in message
    assert f"Hugging Face repository {DEMO_REPO}" in message
    assert "open_clip_model.safetensors or open_clip_pytorch_model.bin" in message
    assert str(tmp_path / "hub" / "models--timm--vit_base_patch32_clip_224.openai") in message
    assert "HF_HOME" in message and "copy the folder" in message
    assert "open_clip.create_model('ViT-B-32', pretrained='openai')" in message
    assert not list(tmp_path.rglob("*.safetensors")) and not list(tmp_path.rglob("*.bin"))


def test_pretrained_weights_load_from_the_hub_cache(hub_cache: Path, demo_model) -> None:
    untrained = demo_model
    path = cached_file_path(hub_cache, DEMO_REPO, "open_clip_model.safetensors")
    # Half the untrained weights, stored in fp16: clearly not what seed 0 initialises.
    saved = {k: (v * 0.5).half().contiguous() for k, v in untrained.state_dict().items()}
    safetensors.torch.save_file(saved, str(path))

    model = load_clip_model(DEMO, untrained=False)

    assert not model.training
    loaded = model.state_dict()
    assert loaded.keys() == saved.keys()
    for key, value in saved.items():
        assert torch.equal(loaded[key], value.float()), key


def test_damaged_cached_weights_are_reported_with_the_fix(hub_cache: Path) -> None:
    path = cached_file_path(hub_cache, DEMO_REPO, "open_clip_model.safetensors")
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(UserError, match="damaged or not the published file") as caught:
        load_clip_model(DEMO, untrained=False)
    message = str(caught.value)
    assert str(path) in message
    assert "delete the folder models--timm--vit_base_patch32_clip_224.openai" in message
    assert path.exists()


@pytest.mark.parametrize("filename", ["open_clip_pytorch_model.bin", "open_clip_model.safetensors"])
def test_a_pickle_in_the_hub_cache_never_runs(
    hub_cache: Path, tmp_path: Path, filename: str
) -> None:
    """Either file open_clip reads: a .bin with torch's weights-only loader, a .safetensors
    without unpickling at all."""
    path = plant_payload(cached_file_path(hub_cache, DEMO_REPO, filename), tmp_path / "ran")
    with pytest.raises(UserError) as caught:
        load_clip_model(DEMO, untrained=False)
    assert not (tmp_path / "ran").exists()
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert "delete the folder models--timm--vit_base_patch32_clip_224.openai" in message
