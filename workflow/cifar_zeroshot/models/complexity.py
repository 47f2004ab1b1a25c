"""A model's size and compute: its parameter count and forward FLOPs per image.

Counted with torch's own ``torch.utils.flop_counter.FlopCounterMode`` (no extra package; it
counts every op torch has a FLOP formula for, convolutions and matrix products, which are nearly
all of a classifier's work, and it ignores element-wise ops, normalisations and pooling). It
counts on shapes, so the model is built on the meta device where its builder allows (no memory,
no weights, a fraction of a second); a builder that needs real tensors is built on the CPU.

FLOPs, not multiply-adds: FlopCounterMode counts a multiply-add as 2 FLOPs. torchvision's
``meta["_ops"]`` ("GFLOPS") and timm's benchmark GMACs count multiply-adds, so they are half of
``gflops_per_image``; tests/models/test_complexity.py holds the count against torchvision's.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Complexity:
    parameters: int  # every parameter of the counted module (trainable or not)
    gflops_per_image: float  # forward FLOPs of one image (a multiply-add is 2), in 10^9


def _build(build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` on the meta device, or on the CPU where the builder needs real tensors."""
    try:
        with torch.device("meta"):
            return build()
    except (NotImplementedError, RuntimeError):  # reads its own data, or moves it (open_clip)
        return build()


def _countable(model: nn.Module) -> nn.Module:
    """``model`` in eval mode without gradients: FlopCounterMode's module tracker hooks every
    module input that requires grad, and asserts where a module is handed a parameter itself
    (timm's test_vit3 passes its position embedding so)."""
    return model.eval().requires_grad_(False)


def _flops(model: nn.Module, image_shape: tuple[int, int, int]) -> int:
    device = next(model.parameters(), torch.empty(0)).device
    image = torch.zeros(1, *image_shape, device=device)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(image)
    return int(counter.get_total_flops())


def count_complexity(
    build: Callable[[], nn.Module], image_shape: tuple[int, int, int]
) -> Complexity:
    """Parameters and forward GFLOPs of one ``image_shape`` (C, H, W) image of the model that
    ``build()`` makes (untrained: the count does not depend on the weights)."""
    model = _countable(_build(build))
    parameters = sum(parameter.numel() for parameter in model.parameters())
    try:
        flops = _flops(model, image_shape)
    except (NotImplementedError, RuntimeError):  # an op without a meta kernel: count for real
        if next(model.parameters(), torch.empty(0)).device.type != "meta":
            raise
        model = _countable(build())
        flops = _flops(model, image_shape)
    return Complexity(parameters, flops / 1e9)


def try_count_complexity(
    build: Callable[[], nn.Module], image_shape: tuple[int, int, int], what: str
) -> tuple[Complexity | None, str | None]:
    """count_complexity, or (None, why) where the model cannot be counted: the figures are
    reported beside the run, never in its way, so any failure of the count is logged and kept."""
    try:
        return count_complexity(build, image_shape), None
    except Exception as error:  # torch's tracers raise anything, AssertionError too
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        log.warning("could not count the parameters and FLOPs of %s: %s", what, reason)
        return None, reason
