"""Device-side preprocessing against torchvision's own transforms on PIL images."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from preprocess_checks import image_like, pil_tolerances, via_pil
from torchvision import transforms
from torchvision.models import AlexNet_Weights, ResNet50_Weights, Swin_T_Weights

from cifar_zeroshot.models.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PreprocessSpec,
    preprocess_batch,
    resized_shape,
    spec_for,
)


@pytest.mark.parametrize(
    ("weights", "resize", "interpolation"),
    [
        (ResNet50_Weights.IMAGENET1K_V2, 232, "bilinear"),
        (AlexNet_Weights.IMAGENET1K_V1, 256, "bilinear"),
        (Swin_T_Weights.IMAGENET1K_V1, 232, "bicubic"),  # overshoots at edges: clamped
    ],
)
def test_weights_protocol_matches_weights_transforms_on_pil(
    weights, resize: int, interpolation: str
) -> None:
    spec = spec_for(weights, "weights")
    assert spec.resize_size == resize
    assert spec.crop_size == 224
    assert spec.mean == IMAGENET_MEAN and spec.std == IMAGENET_STD
    assert spec.interpolation == interpolation and spec.antialias
    images = image_like()

    ours = preprocess_batch(torch.from_numpy(images), spec)
    reference = via_pil(images, weights.transforms())  # metadata only: nothing downloaded

    assert ours.shape == reference.shape == (len(images), 3, 224, 224)
    assert ours.dtype == torch.float32
    difference = (ours - reference).abs()
    max_limit, mean_limit = pil_tolerances(spec.std)
    assert difference.max().item() <= max_limit
    assert difference.mean().item() <= mean_limit


def test_labreport_protocol_matches_the_lab_report_pipeline() -> None:
    spec = spec_for(ResNet50_Weights.IMAGENET1K_V2, "labreport")
    assert spec == PreprocessSpec((224, 224), None, (0.5,) * 3, (0.5,) * 3)
    lab_report = transforms.Compose(
        [
            transforms.Resize((224, 224)),
            transforms.ToTensor(),
            transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        ]
    )
    images = image_like(seed=1)

    ours = preprocess_batch(torch.from_numpy(images), spec)
    reference = via_pil(images, lab_report)

    assert ours.shape == reference.shape == (len(images), 3, 224, 224)
    difference = (ours - reference).abs()
    max_limit, mean_limit = pil_tolerances(spec.std)
    assert difference.max().item() <= max_limit
    assert difference.mean().item() <= mean_limit


def test_untrained_models_get_torchvision_imagenet_defaults() -> None:
    spec = spec_for(None, "weights")
    assert (spec.resize_size, spec.crop_size) == (256, 224)
    assert spec.to_facts() == {
        "resize_size": 256,
        "crop_size": 224,
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
        "interpolation": "bilinear",
    }
    assert spec_for(None, "labreport").to_facts()["resize_size"] == [224, 224]


def test_shapes_dtype_and_memory_format() -> None:
    images = torch.from_numpy(image_like(count=3))
    spec = spec_for(None, "weights")

    plain = preprocess_batch(images, spec, torch.float32, channels_last=False)
    assert plain.shape == (3, 3, 224, 224)
    assert plain.is_contiguous()

    last = preprocess_batch(images, spec, torch.bfloat16, channels_last=True)
    assert last.shape == (3, 3, 224, 224)
    assert last.dtype == torch.bfloat16
    assert last.is_contiguous(memory_format=torch.channels_last)
    assert not last.is_contiguous()
    # channels_last computes in another order: the same values up to float32 rounding.
    last_float32 = preprocess_batch(images, spec, torch.float32, channels_last=True)
    assert torch.allclose(last_float32, plain, rtol=0, atol=1e-5)
    # The bf16 input is the float32 input rounded once to the nearest bfloat16.
    assert torch.equal(last, last_float32.to(torch.bfloat16))


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize(
    ("image_size", "resize", "crop"),
    [((32, 32), 256, 224), ((32, 32), (224, 224), None), ((20, 30), 24, 16), ((32, 32), 16, 12)],
)
def test_matrix_resize_equals_torch_interpolate(
    interpolation: str, antialias: bool, image_size: tuple[int, int], resize, crop
) -> None:
    """The two matrix products are F.interpolate + centre crop, done another way.

    The reference resizes in float64, one axis at a time in PIL's order (width, then height),
    clamping to 0..255 after each pass as PIL does (bilinear never leaves that range).
    """
    height, width = image_size
    rng = np.random.default_rng(3)
    images = torch.from_numpy(rng.integers(0, 256, (4, height, width, 3), dtype=np.uint8))
    # mean 0 and std 1/255: no normalisation, so the values are comparable in 0..255 units.
    spec = PreprocessSpec(resize, crop, (0.0,) * 3, (1.0 / 255.0,) * 3, interpolation, antialias)
    out_h, out_w = resized_shape(height, width, resize)
    reference = images.permute(0, 3, 1, 2).to(torch.float64)
    for size in ((height, out_w), (out_h, out_w)):
        reference = F.interpolate(
            reference, size=size, mode=interpolation, align_corners=False, antialias=antialias
        )
        reference = torch.floor(reference + 0.5).clamp(0.0, 255.0)  # PIL's uint8 per pass
    if crop is not None:
        top, left = round((out_h - crop) / 2.0), round((out_w - crop) / 2.0)
        reference = reference[..., top : top + crop, left : left + crop]

    for channels_last in (False, True):
        ours = preprocess_batch(images, spec, channels_last=channels_last).double()
        assert ours.shape == reference.shape
        # float32 against float64 products: a value on a half level may round either way,
        # now and then, and a first-pass level carries into the second pass.
        difference = (ours - reference).abs()
        assert difference.max().item() <= 2.0 and difference.mean().item() < 0.1


def test_non_square_shortest_side_resize_and_centre_crop() -> None:
    # A 2x3 image of distinct values: shortest side 4 -> 4x6, then a centre crop of 4 -> cols 1..4
    image = torch.arange(6, dtype=torch.uint8).view(1, 2, 3, 1).expand(1, 2, 3, 3).contiguous()
    spec = PreprocessSpec(4, 4, (0.0,) * 3, (1.0 / 255.0,) * 3)
    out = preprocess_batch(image, spec)
    assert out.shape == (1, 3, 4, 4)
    full = preprocess_batch(image, PreprocessSpec(4, None, (0.0,) * 3, (1.0 / 255.0,) * 3))
    assert full.shape == (1, 3, 4, 6)
    assert torch.allclose(out, full[..., 1:5])
