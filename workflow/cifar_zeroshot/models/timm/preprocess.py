"""The preprocessing a timm model's weights expect, as a PreprocessSpec, from its data config.

timm evaluates with ``transforms_imagenet_eval``: the image resized to floor(size / crop_pct)
(its shortest side for crop mode 'center', both sides for 'squash') with torchvision's Resize on
PIL images, so PIL's antialiased filter, then a centre crop to the input size and normalised.
'border' (letterboxing) is not reproduced; planning refuses those few tags (names.py).
"""

import math
from collections.abc import Mapping
from typing import Any

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.preprocess import PreprocessSpec

_DEFAULT_CROP_PCT = 0.875  # timm.data.DEFAULT_CROP_PCT: what timm takes when crop_pct is unset


def preprocess_spec_from_data_config(cfg: Mapping[str, Any], model: str) -> PreprocessSpec:
    """timm's data config (``timm.data.resolve_model_data_config``) as a spec."""
    _, height, width = (int(v) for v in cfg["input_size"])
    crop_pct = float(cfg.get("crop_pct") or _DEFAULT_CROP_PCT)
    mode = cfg.get("crop_mode") or "center"
    if height != width or mode not in ("center", "squash"):
        raise UserError(
            f"timm model {model} is evaluated at {height}x{width} with crop mode {mode!r}, which "
            "this workflow does not reproduce (only square inputs, crop mode 'center' or "
            "'squash'); choose another tag or model."
        )
    scale = math.floor(height / crop_pct)
    return PreprocessSpec(
        resize_size=scale if mode == "center" else (scale, scale),
        crop_size=height,
        mean=tuple(float(v) for v in cfg["mean"]),
        std=tuple(float(v) for v in cfg["std"]),
        interpolation=str(cfg["interpolation"]),
        antialias=True,
    )
