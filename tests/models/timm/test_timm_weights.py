"""timm models built untrained (repeatable) or with weights from the Hugging Face cache: loading,
a truncated or damaged file, a pickle that must never run, and missing files offline."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import safetensors.torch
import torch
from hub_cache_files import cached_file_path, offline_hub_cache
from planted_files import plant_payload
from workflow_runner import REPO

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.timm.names import TimmSpec
from cifar_zeroshot.models.timm.weights import load_timm_model

TINY = TimmSpec("test_vit", "r160_in1k")  # 371,240 parameters: a 1.5 MB weights file
TINY_REPO = "timm/test_vit.r160_in1k"
WORKFLOW = REPO / "workflow"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return offline_hub_cache(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def untrained() -> torch.nn.Module:
    return load_timm_model(TINY, untrained=True)


def test_untrained_model_is_repeatable_and_leaves_the_random_stream(untrained) -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    again = load_timm_model(TINY, untrained=True)
    assert torch.equal(torch.rand(3), expected_next)
    assert not untrained.training and not again.training
    for (key, a), b in zip(
        untrained.state_dict().items(), again.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), key


def _planted(hub_cache: Path, untrained: torch.nn.Module) -> tuple[Path, dict]:
    path = cached_file_path(hub_cache, TINY_REPO, "model.safetensors")
    # Half the untrained weights: clearly not what seed 0 initialises.
    saved = {k: (v * 0.5).contiguous() for k, v in untrained.state_dict().items()}
    safetensors.torch.save_file(saved, str(path))
    return path, saved


def test_pretrained_weights_load_from_the_hub_cache(hub_cache: Path, untrained) -> None:
    _, saved = _planted(hub_cache, untrained)
    model = load_timm_model(TINY, untrained=False)
    assert not model.training
    loaded = model.state_dict()
    assert loaded.keys() == saved.keys()
    for key, value in saved.items():
        assert torch.equal(loaded[key], value), key


@pytest.mark.parametrize("damage", ["truncated", "not safetensors"])
def test_damaged_cached_weights_are_reported_with_the_fix(
    hub_cache: Path, untrained, damage: str
) -> None:
    path, _ = _planted(hub_cache, untrained)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not a file")
    with pytest.raises(UserError, match="damaged or not the published file") as caught:
        load_timm_model(TINY, untrained=False)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert "timm:test_vit.r160_in1k" in message
    assert "delete the folder models--timm--test_vit.r160_in1k" in message


def test_a_pickle_in_the_hub_cache_never_runs(hub_cache: Path, tmp_path: Path) -> None:
    """pytorch_model.bin, the older file name, is read with torch's weights-only loader."""
    path = plant_payload(
        cached_file_path(hub_cache, TINY_REPO, "pytorch_model.bin"), tmp_path / "ran"
    )
    with pytest.raises(UserError) as caught:
        load_timm_model(TINY, untrained=False)
    assert not (tmp_path / "ran").exists()
    assert str(path) in str(caught.value)


def test_missing_weights_offline_say_where_the_cache_expects_them(tmp_path: Path) -> None:
    """A fresh process, so HF_HOME and HF_HUB_OFFLINE apply as they do for a real job."""
    script = (
        "from cifar_zeroshot.models.timm.weights import load_timm_model\n"
        "from cifar_zeroshot.models.timm.names import TimmSpec\n"
        "from cifar_zeroshot.core.errors import UserError\n"
        "try:\n"
        "    load_timm_model(TimmSpec('test_vit', 'r160_in1k'), untrained=False)\n"
        "except UserError as error:\n"
        "    print(error)\n"
        "else:\n"
        "    raise SystemExit('no UserError')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    pythonpath = os.pathsep.join(filter(None, [str(WORKFLOW), os.environ.get("PYTHONPATH")]))
    env.update(HF_HOME=str(tmp_path), HF_HUB_OFFLINE="1", PYTHONPATH=pythonpath)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    message = done.stdout.strip()
    assert "\n" not in message
    assert "timm model timm:test_vit.r160_in1k (model test_vit, tag r160_in1k)" in message
    assert f"Hugging Face repository {TINY_REPO}" in message
    assert "model.safetensors or pytorch_model.bin" in message
    assert str(tmp_path / "hub" / "models--timm--test_vit.r160_in1k") in message
    assert "timm.create_model('test_vit.r160_in1k', pretrained=True)" in message
    assert not list(tmp_path.rglob("*.safetensors")) and not list(tmp_path.rglob("*.bin"))


def test_a_catalog_cache_edited_to_another_head_is_named_with_its_fix(tmp_path, monkeypatch):
    """A cache claiming another head than timm builds (an in21k head edited into a 1000-class
    one, say) stops the job naming the cache file, not with a shape error in the scoring."""
    import json

    from cifar_zeroshot.models.timm import catalog as catalog_module

    monkeypatch.setenv("CIFAR_ZEROSHOT_CACHE", str(tmp_path))
    monkeypatch.setattr(catalog_module.CATALOG, "loaded", None)
    catalog_module.timm_catalog()  # writes the cache file
    path = catalog_module.CATALOG.path()
    raw = json.loads(path.read_text())
    raw["classes"][TINY.name] = 21_841
    path.write_text(json.dumps(raw))
    monkeypatch.setattr(catalog_module.CATALOG, "loaded", None)  # a new process reads the file
    with pytest.raises(UserError) as refused:
        load_timm_model(TINY, untrained=True)
    assert str(refused.value) == (
        f"timm builds {TINY.name} with a head of 1,000 classes, but the catalog cache {path} "
        f"says 21,841: the cache was edited or damaged, so the plan it gave cannot be trusted. "
        f"Fix: delete {path} (the next run reads timm's own list again) and rerun."
    )
    path.unlink()  # the fix works
    monkeypatch.setattr(catalog_module.CATALOG, "loaded", None)
    assert load_timm_model(TINY, untrained=True).num_classes == 1000
