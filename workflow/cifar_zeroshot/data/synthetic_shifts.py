"""Synthetic stand-ins for the shifted test sets, in the real files' formats, for offline runs.

CIFAR-10.1's: a pair of .npy files (uint8 images, int32 labels) holding a new sample of the
synthetic classes, from a random stream of its own. CIFAR-10-C's: an uncompressed tar with
labels.npy (the synthetic test labels five times) and one .npy per corruption in
SYNTHETIC_CORRUPTIONS, made by simple transforms of the synthetic test set at five severities.
Both are byte-for-byte reproducible from their settings, and each file gets an ``.md5`` sidecar.
"""

import io
import logging
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.choices import SEVERITIES, SYNTHETIC_CORRUPTIONS
from cifar_zeroshot.data.checksums import write_md5_sidecar
from cifar_zeroshot.data.cifar10_c import ARCHIVE_DIR, LABELS_MEMBER, corruption_member
from cifar_zeroshot.data.synthetic import add_members, labelled_images

log = logging.getLogger(__name__)

# The CIFAR-10.1 stand-in's stream is this child of the seed's (the training images use 1).
_CIFAR10_1_STREAM = 2
# Each corruption's noise comes from this child of the seed's, then its own grandchild.
_CORRUPTION_STREAM = 3


def _npy_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def write_synthetic_cifar10_1(
    data_dest: str | Path, labels_dest: str | Path, images_per_class: int, seed: int
) -> None:
    """A new sample of the synthetic classes as CIFAR-10.1's .npy pair, each with a sidecar."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_CIFAR10_1_STREAM,)))
    images, labels = labelled_images(images_per_class, rng)
    for dest, array in ((data_dest, images), (labels_dest, labels.astype(np.int32))):
        with atomic_path(dest) as temp:
            temp.write_bytes(_npy_bytes(array))
        write_md5_sidecar(dest)
    log.info("wrote %d synthetic CIFAR-10.1 images to %s", len(labels), data_dest)


# --- corruptions: x is float [N, 32, 32, 3] in 0..255, s the severity 1-5 ------------------------


def _noise(x: np.ndarray, s: int, rng: np.random.Generator) -> np.ndarray:
    return x + rng.normal(0.0, 8.0 * s, size=x.shape)


def _blur(x: np.ndarray, s: int, rng: np.random.Generator) -> np.ndarray:
    return uniform_filter(x, size=(1, 2 * s + 1, 2 * s + 1, 1), mode="reflect")


def _brightness(x: np.ndarray, s: int, rng: np.random.Generator) -> np.ndarray:
    return x + 25.0 * s


def _contrast(x: np.ndarray, s: int, rng: np.random.Generator) -> np.ndarray:
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return mean + (x - mean) * (1.0 - 0.18 * s)


def _pixelate(x: np.ndarray, s: int, rng: np.random.Generator) -> np.ndarray:
    step = (2, 3, 4, 6, 8)[s - 1]
    index = (np.arange(x.shape[1]) // step) * step
    return x[:, index][:, :, index]


_TRANSFORMS: dict[str, Callable[[np.ndarray, int, np.random.Generator], np.ndarray]] = {
    "gaussian_noise": _noise,
    "defocus_blur": _blur,
    "brightness": _brightness,
    "contrast": _contrast,
    "pixelate": _pixelate,
}


def corrupt(images: np.ndarray, corruption: str, severity: int, seed: int) -> np.ndarray:
    """The synthetic ``corruption`` of uint8 images at ``severity`` (deterministic per seed)."""
    key = (_CORRUPTION_STREAM, SYNTHETIC_CORRUPTIONS.index(corruption), severity)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
    out = _TRANSFORMS[corruption](images.astype(np.float64), severity, rng)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def write_synthetic_cifar10_c(
    dest: str | Path, test_images: np.ndarray, test_labels: np.ndarray, seed: int
) -> str:
    """CIFAR-10-C's tar for these test images, and its ``.md5`` sidecar; returns the MD5."""
    members = [(LABELS_MEMBER, _npy_bytes(np.tile(test_labels.astype(np.uint8), len(SEVERITIES))))]
    for corruption in SYNTHETIC_CORRUPTIONS:
        blocks = [corrupt(test_images, corruption, s, seed) for s in SEVERITIES]
        members.append((corruption_member(corruption), _npy_bytes(np.concatenate(blocks))))
    with (
        atomic_path(dest) as temp,
        tarfile.open(temp, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        add_members(tar, ARCHIVE_DIR, members)
    md5 = write_md5_sidecar(dest)
    log.info(
        "wrote %s: %d corruptions x %d severities of %d images, MD5 %s",
        dest,
        len(SYNTHETIC_CORRUPTIONS),
        len(SEVERITIES),
        len(test_labels),
        md5,
    )
    return md5
