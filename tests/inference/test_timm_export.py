"""timm models on the onnxruntime runtime: the export job builds them through the inference job's
model source, and their onnxruntime jobs agree with torch fp32 as torchvision's do.

timm's smallest model (test_vit.r160_in1k, a 0.37 M parameter ViT at 160 x 160) is exported
untrained once for the module; its jobs run on 10 random images.
"""

from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from hub_cache_files import cached_file_path, offline_hub_cache
from run_files import cpu_request
from unconvertible_op import mystery

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.inference import export_job
from cifar_zeroshot.inference.export_job import export_model
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.models.export_weights import export_weights
from cifar_zeroshot.models.timm import weights as timm_weights
from cifar_zeroshot.models.timm.names import TimmSpec
from cifar_zeroshot.records.logits import read_logits
from cifar_zeroshot.runtimes.onnx_file import check_intact

SPEC = TimmSpec("test_vit", "r160_in1k")
SLUG = SPEC.slug
N_IMAGES = 10
ONNX = Variant("fp32", runtime="onnxruntime")
# As for torchvision's export (tests/runtimes/test_onnx_runtime.py): ONNX Runtime sums in another
# order than torch; its logits stay within this fraction of torch's largest logit.
LOGITS_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def test_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(12)
    path = tmp_path_factory.mktemp("data") / "test_set.npz"
    images = rng.integers(0, 256, (N_IMAGES, 32, 32, 3), dtype=np.uint8)
    np.savez(path, images=images, labels=(np.arange(N_IMAGES) % 10).astype(np.uint8))
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / f"{SLUG}.onnx"
    export_model(SLUG, "none", path)
    return path


def _max_difference(ours: Path, reference: Path) -> tuple[float, float]:
    """The largest |difference| of two runs' logits, and the reference's largest |logit|."""
    a, b = read_logits(ours), read_logits(reference)
    np.testing.assert_array_equal(a.image_index, b.image_index)
    return float(np.abs(a.logits - b.logits).max()), float(np.abs(b.logits).max())


def test_the_export_of_a_timm_model_is_recorded_under_its_slug(exported: Path) -> None:
    record = check_intact(exported)
    assert (record.model, record.weights) == (SLUG, "none")
    assert record.input_shape[:2] == ["batch", 3]  # any batch size, so any halving


def test_a_timm_model_is_exported_at_its_data_config_input_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example images are the data config's 160 x 160, not torchvision's default 224."""
    seen = {}

    def spy(model: torch.nn.Module, crop: int, onnx_path: Path, **names: str) -> dict:
        seen.update(crop=crop, model=model, **names)
        return names

    monkeypatch.setattr(export_job, "export_module", spy)
    export_model(SLUG, "none", tmp_path / "x.onnx")
    assert seen["crop"] == 160
    assert (seen["model_name"], seen["weights_label"]) == (SLUG, "none")
    assert type(seen["model"]).__name__ == "TimmClassifier"  # as the inference job builds it


def test_a_timm_onnxruntime_job_agrees_with_torch_fp32(
    exported: Path, test_set: Path, tmp_path: Path
) -> None:
    torch_request = cpu_request(SLUG, test_set, tmp_path, Variant("fp32"))
    onnx_request = cpu_request(SLUG, test_set, tmp_path, ONNX)
    torch_run = run_inference(torch_request)
    onnx_run = run_inference(onnx_request, exported_model=exported)
    difference, scale = _max_difference(onnx_request.logits_path, torch_request.logits_path)
    print(f"{SLUG} onnxruntime vs torch fp32: max |difference| {difference:.3g}, scale {scale:.3g}")
    assert difference <= LOGITS_TOLERANCE * scale
    logits = read_logits(onnx_request.logits_path).logits
    assert logits.shape == (N_IMAGES, 1000)
    assert onnx_run.facts.preprocess_spec == torch_run.facts.preprocess_spec
    assert onnx_run.facts.parameters == torch_run.facts.parameters == 371_240


@pytest.fixture
def planted_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tag's weights (half the untrained ones) in an offline Hugging Face cache."""
    cache = offline_hub_cache(tmp_path, monkeypatch)
    path = cached_file_path(cache, "timm/test_vit.r160_in1k", "model.safetensors")
    state = timm_weights.build_untrained(SPEC).state_dict()
    safetensors.torch.save_file({k: (v * 0.5).contiguous() for k, v in state.items()}, str(path))


def test_pretrained_timm_weights_export_and_run_under_their_label(
    planted_weights: None, test_set: Path, tmp_path: Path
) -> None:
    # What the export rule hands the job for weights DEFAULT: the tag.
    weights = export_weights(SLUG, "DEFAULT")
    assert weights == "r160_in1k"
    path = tmp_path / "onnx" / f"{SLUG}.onnx"
    assert export_model(SLUG, weights, path).weights == "timm/test_vit.r160_in1k"
    torch_request = cpu_request(SLUG, test_set, tmp_path, Variant("fp32"), weights="DEFAULT")
    onnx_request = cpu_request(SLUG, test_set, tmp_path, ONNX, weights="DEFAULT")
    run_inference(torch_request)
    # The job checks the record against the timm weights' label, not torchvision's 'none'.
    assert run_inference(onnx_request, exported_model=path).facts.weights == (
        "timm/test_vit.r160_in1k"
    )
    difference, scale = _max_difference(onnx_request.logits_path, torch_request.logits_path)
    assert difference <= LOGITS_TOLERANCE * scale


def test_export_weights_name_the_weights_not_their_spelling() -> None:
    assert export_weights(SLUG, "none") == "none"
    assert export_weights(SLUG, "r160_in1k") == export_weights(SLUG, "DEFAULT") == "r160_in1k"
    assert export_weights("resnet50", "DEFAULT") == "ResNet50_Weights.IMAGENET1K_V2"
    with pytest.raises(UserError, match="do not fit timm model"):
        export_weights(SLUG, "IMAGENET1K_V1")


def test_a_timm_model_the_exporter_cannot_convert_gets_the_export_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A timm model whose forward calls an operator without an ONNX translation."""
    build = timm_weights.build_untrained

    def unconvertible(spec: TimmSpec, untrained: bool, *, logits: bool) -> torch.nn.Module:
        model = build(spec).eval()
        model.forward_head = lambda x, pre_logits=False: mystery(x)  # type: ignore[method-assign]
        return model

    monkeypatch.setattr(timm_weights, "load_timm_model", unconvertible)
    path = tmp_path / "onnx" / f"{SLUG}.onnx"
    with pytest.raises(UserError) as caught:
        export_model(SLUG, "none", path)
    message = str(caught.value)
    assert message.startswith(f"torch.onnx.export could not convert {SLUG} (none): ")
    assert (
        "cifar_zeroshot_test.mystery" in message and "Its torch variants are unaffected" in message
    )
    assert list(path.parent.iterdir()) == []  # no file, no record, no temp file
