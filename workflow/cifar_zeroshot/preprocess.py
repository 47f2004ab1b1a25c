"""Image preprocessing on the device that holds the images (the GPU in real runs).

The whole uint8 test set sits on the device; each batch is sliced, converted to float, resized,
centre-cropped and normalised there, with torchvision's geometry and PIL-like antialiased
filters (``antialias=True``), so the result matches ``weights.transforms()`` on PIL images up to
PIL's rounding to uint8 after each resize pass.
"""

import functools
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torchvision.models import WeightsEnum

PROTOCOLS: tuple[str, ...] = ("weights", "labreport")
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
# torchvision's ImageClassification defaults, used for untrained models (weights 'none').
DEFAULT_RESIZE = 256
DEFAULT_CROP = 224
LABREPORT_SIZE = (224, 224)
_MODES = ("bilinear", "bicubic")


@dataclass(frozen=True)
class PreprocessSpec:
    resize_size: int | tuple[int, int]  # int: the shortest side; (h, w): exactly that size
    crop_size: int | None  # square centre crop, or none
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"
    antialias: bool = True

    def __post_init__(self) -> None:
        if self.interpolation not in _MODES:
            raise ValueError(f"interpolation must be one of {_MODES}, not {self.interpolation!r}")

    def to_facts(self) -> dict[str, Any]:
        resize = self.resize_size
        return {
            "resize_size": list(resize) if isinstance(resize, tuple) else resize,
            "crop_size": self.crop_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "interpolation": self.interpolation,
        }


def spec_for(weights: WeightsEnum | None, protocol: str) -> PreprocessSpec:
    """'weights': what the weights were trained with; 'labreport': the student lab report's."""
    if protocol == "labreport":
        return PreprocessSpec(LABREPORT_SIZE, None, (0.5,) * 3, (0.5,) * 3)
    if protocol != "weights":
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    if weights is None:
        return PreprocessSpec(DEFAULT_RESIZE, DEFAULT_CROP)
    preset = weights.transforms()
    # ImageClassification stores sizes as one-element lists.
    return PreprocessSpec(
        resize_size=int(preset.resize_size[0]),
        crop_size=int(preset.crop_size[0]),
        mean=tuple(float(v) for v in preset.mean),
        std=tuple(float(v) for v in preset.std),
        interpolation=preset.interpolation.value,
        antialias=bool(preset.antialias),
    )


def resized_shape(height: int, width: int, resize: int | tuple[int, int]) -> tuple[int, int]:
    """torchvision's rule: an int sets the shortest side, the other side keeps the aspect."""
    if isinstance(resize, tuple):
        return resize
    if height <= width:
        return resize, int(resize * width / height)
    return int(resize * height / width), resize


@functools.cache
def _normalisation(
    mean: tuple[float, ...], std: tuple[float, ...], device: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Made once per device: a fresh host->GPU copy per batch would stall the CUDA stream."""
    mean_255 = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    scale = 1.0 / (torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
    return mean_255.to(device), scale.to(device)


def preprocess_batch(
    images_uint8_nhwc: torch.Tensor,
    spec: PreprocessSpec,
    dtype: torch.dtype = torch.float32,
    channels_last: bool = False,
    resize_in_uint8: bool | None = None,
) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> normalised ``dtype`` [N, 3, h, w] on the same device.

    ``resize_in_uint8``: None picks by device (the uint8 kernel on the CPU, float on CUDA);
    tests set it to check both kernels against torchvision's PIL transforms.
    """
    x = images_uint8_nhwc.permute(0, 3, 1, 2)  # NCHW view of the NHWC memory
    height, width = x.shape[-2:]
    size = resized_shape(height, width, spec.resize_size)
    if size != (height, width):
        # On the CPU, torch's uint8 bilinear kernel is about 4x faster than the float one and
        # rounds to uint8 after resizing, as PIL does. CUDA has no uint8 kernel: resize in float.
        uint8_kernel = (
            x.device.type == "cpu" if resize_in_uint8 is None else resize_in_uint8
        ) and spec.interpolation == "bilinear"
        x = F.interpolate(
            x if uint8_kernel else x.to(torch.float32),
            size=size,
            mode=spec.interpolation,
            align_corners=False,
            antialias=spec.antialias,
        )
        if spec.interpolation == "bicubic":
            x = x.clamp_(0.0, 255.0)  # bicubic overshoots; PIL clamps to the uint8 range
    if spec.crop_size is not None:
        crop = spec.crop_size
        if crop > size[0] or crop > size[1]:
            raise ValueError(f"crop {crop} is larger than the resized image {size}")
        top = round((size[0] - crop) / 2.0)
        left = round((size[1] - crop) / 2.0)
        x = x[:, :, top : top + crop, left : left + crop]
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    # One copy into the final layout, then normalise in place: no further full-size temporaries.
    x = x.to(dtype=torch.float32, memory_format=memory_format, copy=True)
    mean, scale = _normalisation(spec.mean, spec.std, str(x.device))
    x.sub_(mean).mul_(scale)
    return x if dtype == torch.float32 else x.to(dtype)
