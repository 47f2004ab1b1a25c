"""Image preprocessing on the device that holds the images (the GPU in real runs).

The whole uint8 test set sits on the device. Resizing is linear and acts on rows and columns
separately, so resize + centre crop is two small matrix products per image: out = R_h @ img @ R_w^T,
with R_h and R_w the crop's rows of the resize matrices. Those matrices are made once by running
torch's own ``F.interpolate`` (the spec's filter, ``antialias`` as torchvision uses it) on the
identity, so the geometry and the filter weights are torchvision's, not re-derived here. Each
pass is rounded to grey levels as PIL rounds it to uint8, then the result is normalised.
A float ``interpolate`` over the whole 256x256 image followed by crop, normalise and cast passes
costs about a quarter of AlexNet's bf16 forward time on an H200; the products avoid all of it.
The result matches ``weights.transforms()`` on PIL images to float32 rounding
(tests/models/test_preprocess.py states and checks the tolerance).
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


def output_shape(spec: PreprocessSpec, height: int, width: int) -> tuple[int, int]:
    """(h, w) of a preprocessed image: the crop, or the resized image when there is none."""
    if spec.crop_size is not None:
        return spec.crop_size, spec.crop_size
    return resized_shape(height, width, spec.resize_size)


def _crop_window(size: int, crop: int | None) -> slice:
    """torchvision's CenterCrop offsets along one axis."""
    if crop is None:
        return slice(0, size)
    start = round((size - crop) / 2.0)
    return slice(start, start + crop)


def _axis_matrix(size_in: int, size_out: int, spec: PreprocessSpec) -> torch.Tensor:
    """[size_out, size_in] float64: row i holds the filter weights of output pixel i.

    Made by resizing the identity with torch's own kernel along the width (the kernel treats
    both axes alike): column p of the result is the response to a unit impulse at pixel p.
    """
    identity = torch.eye(size_in, dtype=torch.float64).view(1, 1, size_in, size_in)
    impulses = F.interpolate(
        identity,
        size=(size_in, size_out),
        mode=spec.interpolation,
        align_corners=False,
        antialias=spec.antialias,
    )
    return impulses.view(size_in, size_out).T


@dataclass(frozen=True)
class _Operators:
    rows: torch.Tensor  # [out_h, H] float32: resize + crop along the height
    columns: torch.Tensor  # [out_w, W] float32: resize + crop along the width
    scale: torch.Tensor  # [3] float32: 1 / (255 std)
    offset: torch.Tensor  # [3] float32: -mean / std


@functools.cache
def _operators(spec: PreprocessSpec, height: int, width: int, device: torch.device) -> _Operators:
    """Made once per (spec, input size, device): a per-batch host->GPU copy would stall."""
    resized_h, resized_w = resized_shape(height, width, spec.resize_size)
    crop = spec.crop_size
    if crop is not None and (crop > resized_h or crop > resized_w):
        raise ValueError(f"crop {crop} is larger than the resized image {(resized_h, resized_w)}")
    rows = _axis_matrix(height, resized_h, spec)[_crop_window(resized_h, crop)]
    columns = _axis_matrix(width, resized_w, spec)[_crop_window(resized_w, crop)]
    mean = torch.tensor(spec.mean, dtype=torch.float64)
    std = torch.tensor(spec.std, dtype=torch.float64)
    return _Operators(
        rows=rows.to(device, torch.float32),
        columns=columns.to(device, torch.float32),
        scale=(1.0 / (255.0 * std)).to(device, torch.float32),
        offset=(-mean / std).to(device, torch.float32),
    )


def _grey_levels(x: torch.Tensor) -> torch.Tensor:
    """A resize pass's output as PIL keeps it: rounded half up and clamped to uint8's 0..255
    (which also removes bicubic's overshoot). Without it, trained models' predictions on
    upscaled 32x32 images differ from torchvision's PIL transforms' on about one image in ten."""
    return torch.floor_(x.add_(0.5)).clamp_(0.0, 255.0)


def preprocess_batch(
    images_uint8_nhwc: torch.Tensor,
    spec: PreprocessSpec,
    dtype: torch.dtype = torch.float32,
    channels_last: bool = False,
) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> normalised ``dtype`` [N, 3, h, w] on the same device."""
    n, height, width, channels = images_uint8_nhwc.shape
    ops = _operators(spec, height, width, images_uint8_nhwc.device)
    x = images_uint8_nhwc.to(torch.float32)
    out_h, out_w = ops.rows.shape[0], ops.columns.shape[0]
    # Width first, then height, each pass rounded to grey levels, as PIL does; float32
    # throughout (in the tf32 variant CUDA runs these products in TF32 too, which moves a pixel
    # by about 0.1 grey level and so can move its rounding by one level).
    if channels_last:
        # Width on [N*H, W, 3], then height on [N, H, out_w*3]: the result [N, out_h, out_w, 3]
        # is channels_last memory without a copy.
        x = _grey_levels(torch.matmul(ops.columns, x.view(n * height, width, channels)))
        x = torch.matmul(ops.rows, x.view(n, height, out_w * channels))
        x = _grey_levels(x.view(n, out_h, out_w, channels))
        x = torch.addcmul(ops.offset, x, ops.scale).permute(0, 3, 1, 2)
    else:
        x = _grey_levels(torch.matmul(x.permute(0, 3, 1, 2), ops.columns.T))
        x = _grey_levels(torch.matmul(ops.rows, x))  # [N, 3, out_h, out_w]
        x = torch.addcmul(ops.offset.view(-1, 1, 1), x, ops.scale.view(-1, 1, 1))
    # One rounding to the model's dtype; the memory format is kept.
    return x.to(dtype)
