"""CLIP preprocessing as a PreprocessSpec, against open_clip's own transform on PIL images."""

import open_clip
import pytest
from preprocess_checks import OPENAI_MEAN, OPENAI_STD, assert_matches_open_clip

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.clip.preprocess import preprocess_spec_from_cfg


@pytest.mark.parametrize(
    ("architecture", "tag", "resize", "crop"),
    [
        ("RN50", "openai", 224, 224),  # shortest side, bicubic
        ("MobileCLIP-S1", "datacompdr", 256, 256),  # shortest side, bilinear, mean 0 std 1
        ("ViT-B-16-SigLIP", "webli", (224, 224), None),  # squash, bicubic
        ("ViT-L-14-CLIPA", "datacomp1b", (224, 224), None),  # squash, bilinear
    ],
)
def test_tag_preprocessing_matches_open_clip(architecture, tag, resize, crop) -> None:
    # The config create_model gives the model: the tag's settings, the architecture's size.
    size = open_clip.get_model_config(architecture)["vision_cfg"]["image_size"]
    pretrained = open_clip.get_pretrained_cfg(architecture, tag)
    cfg = {"size": size, **{k: pretrained[k] for k in ("mean", "std", "interpolation")}}
    cfg["resize_mode"] = pretrained["resize_mode"]
    spec = preprocess_spec_from_cfg(cfg)
    assert (spec.resize_size, spec.crop_size) == (resize, crop)
    assert spec.interpolation == cfg["interpolation"]
    assert_matches_open_clip(spec, cfg, seed=3)


def test_unsupported_resize_mode_is_refused() -> None:
    cfg = {"size": 224, "mean": OPENAI_MEAN, "std": OPENAI_STD, "resize_mode": "longest"}
    with pytest.raises(UserError, match="resize mode 'longest'.*choose another CLIP model"):
        preprocess_spec_from_cfg(cfg)
