"""timm preprocessing as a PreprocessSpec, against timm's own eval transform on PIL images, within
the tolerance test_preprocess holds torchvision's to (tests/preprocess_checks.py)."""

import pytest
import timm.data
import torch
from preprocess_checks import image_like, pil_tolerances, via_pil

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.preprocess import preprocess_batch
from cifar_zeroshot.models.timm.names import TimmSpec
from cifar_zeroshot.models.timm.preprocess import preprocess_spec_from_data_config
from cifar_zeroshot.models.timm.weights import build_untrained, data_config


def _config(name: str) -> dict:
    architecture, _, tag = name.partition(".")
    with torch.device("meta"):
        return data_config(build_untrained(TimmSpec(architecture, tag)))


# Every crop mode and filter the ImageNet-1k heads of timm 1.0 use (the catalog: center and
# squash; bicubic and bilinear; no 1k head squashes bilinearly), at 224 and other sizes.
@pytest.mark.parametrize(
    ("name", "mode", "interpolation", "size", "resize"),
    [
        ("resnet50.a1_in1k", "center", "bicubic", 224, 235),  # crop_pct 0.95
        ("dla34.in1k", "center", "bilinear", 224, 256),  # crop_pct 0.875
        ("test_resnet.r160_in1k", "center", "bilinear", 160, 168),  # not 224
        ("test_vit.r160_in1k", "center", "bicubic", 160, 168),
        ("dm_nfnet_f1.dm_in1k", "squash", "bicubic", 224, (246, 246)),  # crop_pct 0.91
        ("coat_lite_medium_384.in1k", "squash", "bicubic", 384, (384, 384)),  # crop_pct 1
    ],
)
def test_data_config_matches_timms_transform(name, mode, interpolation, size, resize) -> None:
    cfg = _config(name)
    assert (cfg["crop_mode"], cfg["interpolation"], cfg["input_size"][1]) == (
        mode,
        interpolation,
        size,
    )
    spec = preprocess_spec_from_data_config(cfg, name)
    assert (spec.resize_size, spec.crop_size) == (resize, size)
    images = image_like(seed=5)
    ours = preprocess_batch(torch.from_numpy(images), spec)
    reference = via_pil(images, timm.data.create_transform(**cfg))
    assert ours.shape == reference.shape == (len(images), 3, size, size)
    difference = (ours - reference).abs()
    max_limit, mean_limit = pil_tolerances(spec.std)
    assert difference.max().item() <= max_limit
    assert difference.mean().item() <= mean_limit


@pytest.mark.parametrize(
    ("change", "match"),
    [({"crop_mode": "border"}, "'border'"), ({"input_size": (3, 224, 192)}, "224x192")],
)
def test_what_is_not_reproduced_is_refused(change, match) -> None:
    cfg = {**_config("resnet50.a1_in1k"), **change}
    with pytest.raises(UserError, match=f"{match}.*choose another tag or model"):
        preprocess_spec_from_data_config(cfg, "timm:resnet50.a1_in1k")
