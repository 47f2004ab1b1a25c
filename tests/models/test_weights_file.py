"""Weights from the user's file: read as tensors only, checked strictly at planning and loaded
strictly, named by their SHA-256 (models.weights_file, config.weights_file_plan)."""

import re
from pathlib import Path

import pytest
import torch
import torchvision
from safetensors.torch import save_file

from cifar_zeroshot.analysis.verification import requested_run
from cifar_zeroshot.config.weights_file_plan import parse_file_model
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.file_digests import file_sha256
from cifar_zeroshot.inference.model_source import classifier_source
from cifar_zeroshot.inference.request import JobKind
from cifar_zeroshot.models.family_registry import (
    LOGITS_SLUG_PATTERN,
    TIMM,
    TORCHVISION,
    family_of_slug,
)
from cifar_zeroshot.models.torchvision.classifiers import load_model
from cifar_zeroshot.models.weights_file import (
    WeightsFile,
    architecture_slug,
    load_weights_file,
    read_state_dict,
)
from cifar_zeroshot.records.run_facts import RunFacts

ARCH = "squeezenet1_1"  # small, and torchvision's own builder


def _trained_like(name: str = ARCH, seed: int = 7) -> dict[str, torch.Tensor]:
    """A state dict of the architecture unlike its untrained one (another seed)."""
    torch.manual_seed(seed)
    return torchvision.models.get_model(name, weights=None).state_dict()


def _plan(path: Path, name: str = ARCH, **entry) -> tuple[str, WeightsFile]:
    parsed, weights_file = parse_file_model({"name": name, "weights_file": str(path), **entry})
    return parsed.slug, weights_file


def _loaded(weights_file: WeightsFile, name: str = ARCH) -> torch.nn.Module:
    return load_weights_file(load_model(name, None), weights_file, name)


def _assert_holds(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    loaded = model.state_dict()
    assert set(loaded) == set(state)
    assert all(torch.equal(loaded[key], state[key]) for key in state)


def test_a_safetensors_file_loads_strictly_and_names_its_digest(tmp_path):
    state = _trained_like()
    path = tmp_path / "mine.safetensors"
    save_file(state, path)
    slug, weights_file = _plan(path)
    digest = file_sha256(path)
    assert weights_file.sha256 == digest
    assert slug == f"{ARCH}.file-{digest[:8]}"
    assert weights_file.setting == f"file-sha256:{digest}"
    _assert_holds(_loaded(weights_file), state)
    # The untrained build alone differs: the file's tensors are what ran.
    assert not torch.equal(load_model(ARCH, None).state_dict()["features.0.weight"],
                           state["features.0.weight"])  # fmt: skip


@pytest.mark.parametrize("wrapper", [None, "state_dict", "model"])
def test_a_torch_state_dict_loads_plain_or_wrapped(tmp_path, wrapper):
    state = _trained_like()
    path = tmp_path / "mine.pt"
    torch.save(state if wrapper is None else {wrapper: state, "epoch": 3}, path)
    _, weights_file = _plan(path)
    _assert_holds(_loaded(weights_file), state)


def test_the_slug_is_its_architectures_family_and_never_a_published_weights_folder(tmp_path):
    path = tmp_path / "mine.safetensors"
    save_file(_trained_like(), path)
    slug, _ = _plan(path)
    assert family_of_slug(slug) is TORCHVISION
    assert architecture_slug(slug) == ARCH
    assert re.fullmatch(LOGITS_SLUG_PATTERN, slug)
    assert re.fullmatch(TORCHVISION.slug_pattern, slug)
    timm_slug = "timm-test_vit.r160_in1k.file-0123abcd"
    assert family_of_slug(timm_slug) is TIMM and re.fullmatch(TIMM.slug_pattern, timm_slug)
    assert architecture_slug(timm_slug) == "timm-test_vit.r160_in1k"
    assert not re.fullmatch(TIMM.slug_pattern, "timm-test_vit.r160_in1k.file-xyz")


def test_the_digest_is_what_the_metrics_ask_of_the_facts(tmp_path):
    path = tmp_path / "mine.safetensors"
    save_file(_trained_like(), path)
    slug, weights_file = _plan(path)
    wanted = requested_run(slug, weights_file.setting, "fp32", "synthetic", None)
    assert wanted.weights == weights_file.setting
    assert wanted.weights_sha256 == file_sha256(path)
    assert requested_run(ARCH, "none", "fp32", "synthetic", None).weights_sha256 is None


def test_facts_written_before_weights_files_still_read():
    facts = RunFacts.from_mapping(_old_facts(), "old.parquet")
    assert facts.weights_sha256 is None


def _old_facts() -> dict:
    return {
        "model": ARCH, "weights": "none", "variant": "fp32", "precision": "fp32",
        "compile": False, "preprocess": "weights", "preprocess_spec": {}, "device": "cpu",
        "device_name": "cpu", "gpu_index": None, "torch_version": "2", "torchvision_version": "0",
        "batch_size": 8, "batch_size_requested": 8, "image_count": 10, "dataset": "synthetic",
        "threads": 1, "limit": None, "test_set_sha256": "0" * 64, "parameters": None,
        "gflops_per_image": None,
    }  # fmt: skip


def test_another_architectures_file_is_one_message_with_counts_and_the_fix(tmp_path):
    state = _trained_like("resnet18")
    state["fc.weight"] = torch.zeros(10, 512)  # a CIFAR-10 head: a shape mismatch
    state["fc.bias"] = torch.zeros(10)
    del state["layer4.1.bn2.running_var"]  # missing
    state["extra.weight"] = torch.zeros(3)  # unexpected
    path = tmp_path / "resnet.safetensors"
    save_file(state, path)
    with pytest.raises(UserError) as refused:
        _plan(path, "resnet18")
    text = str(refused.value)
    assert str(path) in text and "torchvision resnet18" in text
    assert "1 missing keys (layer4.1.bn2.running_var)" in text
    assert "1 unexpected keys (extra.weight)" in text
    assert "2 shape mismatches (fc.weight [10, 512] (expected [1000, 512])" in text
    assert "another architecture" in text
    # Another architecture altogether: counts, the first few keys, how many more.
    save_file(_trained_like(), path)
    with pytest.raises(UserError, match=r"missing keys \(conv1.weight, .* and \d+ more\)"):
        _plan(path, "resnet18")


def test_the_job_loads_strictly_again(tmp_path):
    state = _trained_like()
    path = tmp_path / "mine.pt"
    torch.save(state, path)
    _, weights_file = _plan(path)
    with pytest.raises(UserError, match=r"does not fit architecture resnet18.*missing keys"):
        load_weights_file(load_model("resnet18", None), weights_file, "resnet18")


class _WritesAFile:
    """Unpickling this writes ``marker``: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))


def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": _trained_like(), "hook": _WritesAFile(marker)}, path)
    with pytest.raises(UserError) as refused:
        _plan(path)
    assert str(path) in str(refused.value) and "weights-only loader refused it" in str(
        refused.value
    )
    with pytest.raises(UserError, match="unpickling can run code"):
        read_state_dict(path)
    assert not marker.exists()


def test_a_file_changed_after_planning_is_refused_by_the_job(tmp_path):
    path = tmp_path / "mine.safetensors"
    save_file(_trained_like(), path)
    _, weights_file = _plan(path)
    save_file(_trained_like(seed=8), path)
    with pytest.raises(UserError, match="changed since snakemake started"):
        _loaded(weights_file)


def test_a_missing_file_clip_or_both_weights_are_refused_at_planning(tmp_path):
    with pytest.raises(UserError, match="not an existing file"):
        _plan(tmp_path / "absent.safetensors")
    path = tmp_path / "mine.safetensors"
    save_file(_trained_like(), path)
    with pytest.raises(UserError, match="torchvision and timm architectures only"):
        _plan(path, "clip:ViT-B-32/openai")
    with pytest.raises(UserError, match="both weights"):
        _plan(path, weights="DEFAULT")
    with pytest.raises(UserError, match="Unknown weights 'V9'"):
        _plan(path, preprocess_from="V9")


def test_preprocessing_is_the_default_weights_unless_named(tmp_path):
    path = tmp_path / "mine.safetensors"
    save_file(_trained_like("resnet50"), path)
    slug, weights_file = _plan(path, "resnet50")
    source = classifier_source(slug, weights_file.setting, "weights", JobKind.LOGITS, load_model,
                               weights_file=weights_file)  # fmt: skip
    assert source.weights is None and source.weights_label == weights_file.setting
    assert source.spec is not None and source.spec.resize_size == 232  # IMAGENET1K_V2's
    _, named = _plan(path, "resnet50", preprocess_from="IMAGENET1K_V1")
    source = classifier_source(slug, named.setting, "weights", JobKind.LOGITS, load_model,
                               weights_file=named)  # fmt: skip
    assert source.spec is not None and source.spec.resize_size == 256


def test_a_timm_architecture_takes_its_file(tmp_path):
    from cifar_zeroshot.models.timm.names import TimmSpec
    from cifar_zeroshot.models.timm.weights import build_untrained

    torch.manual_seed(3)
    state = build_untrained(TimmSpec("test_vit", "r160_in1k")).state_dict()
    state = {key: value + 1 for key, value in state.items()}
    path = tmp_path / "vit.safetensors"
    save_file(state, path)
    slug, weights_file = _plan(path, "timm:test_vit.r160_in1k")
    assert slug == f"timm-test_vit.r160_in1k.file-{weights_file.sha256[:8]}"
    source = classifier_source(slug, weights_file.setting, "weights", JobKind.LOGITS, load_model,
                               weights_file=weights_file)  # fmt: skip
    model = source.loader(slug, None)
    _assert_holds(model.model, state)
    assert source.spec is not None and source.spec.crop_size == 160
