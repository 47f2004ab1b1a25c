"""Checks the preprocessing tests share: images like small photos, the reference transforms run
on PIL images, and the tolerance between the two."""

import numpy as np
import open_clip
import torch
from PIL import Image

from cifar_zeroshot.models.preprocess import PreprocessSpec, preprocess_batch

# PIL resizes in two passes (width, then height) and rounds to uint8 after each, as this code
# does. PIL's fixed-point filter weights can still put a value on the other side of a half level
# now and then, and a first-pass level carries into the second pass: a pixel may differ by up
# to 2 levels (2.01 allowed), rarely (0.1 level on average allowed), in 0..255 units before
# normalising.
MAX_DIFF_LEVELS = 2.01
MEAN_DIFF_LEVELS = 0.1


def pil_tolerances(std: tuple[float, ...]) -> tuple[float, float]:
    """The tolerances above in normalised units (the smallest std magnifies them most)."""
    scale = 255.0 * min(std)
    return MAX_DIFF_LEVELS / scale, MEAN_DIFF_LEVELS / scale


def image_like(count: int = 6, seed: int = 0) -> np.ndarray:
    """32x32 RGB uint8 with smooth gradients, a hard edge and noise, like small photos."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float64)
    images = []
    for i in range(count):
        image = np.stack([(xx * 7 + 20 * i) % 256, yy * 6 + 30, (xx + yy) * 3 + 10 * i], axis=-1)
        image[:, 11 + i :] = 255 - image[:, 11 + i :]  # a vertical edge
        image += rng.normal(0, 12, image.shape)
        images.append(np.clip(image, 0, 255).astype(np.uint8))
    return np.stack(images)


def via_pil(images: np.ndarray, transform) -> torch.Tensor:
    return torch.stack([transform(Image.fromarray(image)) for image in images])


OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def _open_clip_transform(cfg: dict):
    return open_clip.image_transform(
        cfg["size"],
        is_train=False,
        mean=cfg["mean"],
        std=cfg["std"],
        resize_mode=cfg["resize_mode"],
        interpolation=cfg["interpolation"],
    )


def assert_matches_open_clip(spec: PreprocessSpec, cfg: dict, seed: int) -> None:
    images = image_like(seed=seed)
    ours = preprocess_batch(torch.from_numpy(images), spec)
    reference = via_pil(images, _open_clip_transform(cfg))
    assert ours.shape == reference.shape
    difference = (ours - reference).abs()
    max_limit, mean_limit = pil_tolerances(spec.std)
    assert difference.max().item() <= max_limit
    assert difference.mean().item() <= mean_limit
