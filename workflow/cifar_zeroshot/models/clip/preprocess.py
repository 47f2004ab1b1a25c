"""The preprocessing a CLIP model's weights expect, as a PreprocessSpec, from open_clip's config."""

from collections.abc import Mapping
from typing import Any

import open_clip
import torch

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.preprocess import PreprocessSpec


def image_size(cfg: Mapping[str, Any]) -> tuple[int, int]:
    """(height, width) of open_clip's preprocessing config: its size is one int or a pair."""
    size = cfg["size"]
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def preprocess_spec_from_cfg(cfg: Mapping[str, Any]) -> PreprocessSpec:
    """open_clip's preprocessing config (size, mean, std, filter, resize mode) as a spec.

    open_clip's inference transform is torchvision's Resize on PIL images, so PIL's antialiased
    filter; 'shortest' adds a centre crop, 'squash' resizes to the size exactly.
    """
    height, width = image_size(cfg)
    interpolation = cfg.get("interpolation", "bicubic")
    if interpolation == "random":  # open_clip's own rule: random is bicubic at inference
        interpolation = "bicubic"
    mode = cfg.get("resize_mode", "shortest")
    if mode == "squash":
        resize: int | tuple[int, int] = (height, width)
        crop = None
    elif mode == "shortest" and height == width:
        resize, crop = height, height
    else:
        raise UserError(
            f"open_clip preprocessing with resize mode {mode!r} to {height}x{width} is not "
            "supported here (only 'shortest' to a square and 'squash'); choose another CLIP model."
        )
    return PreprocessSpec(
        resize_size=resize,
        crop_size=crop,
        mean=tuple(float(v) for v in cfg["mean"]),
        std=tuple(float(v) for v in cfg["std"]),
        interpolation=interpolation,
        antialias=True,
    )


def clip_preprocess_spec(model: torch.nn.Module) -> PreprocessSpec:
    """The preprocessing the model's weights expect, for preprocess.preprocess_batch."""
    return preprocess_spec_from_cfg(open_clip.get_model_preprocess_cfg(model))
