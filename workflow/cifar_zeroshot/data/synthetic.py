"""A small synthetic stand-in for the CIFAR-10 archive, for running the workflow offline.

It has CIFAR-10's binary format and class list, and is byte-for-byte reproducible from
(images_per_class, train_images_per_class, seed): the same inputs give the same archive and so
the same MD5. Training batches (for the linear probe) are optional; their images come from a
random stream of their own, so adding them leaves the test batch as it was.
"""

import gzip
import io
import logging
import tarfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.choices import CIFAR10_TEST_IMAGES, CIFAR10_TRAIN_IMAGES
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES, NUM_CIFAR10_CLASSES
from cifar_zeroshot.data.archive import (
    ARCHIVE_DIR,
    IMAGE_SIZE,
    META_MEMBER,
    TEST_MEMBER,
    TRAIN_MEMBERS,
    encode_records,
)
from cifar_zeroshot.data.checksums import write_md5_sidecar

log = logging.getLogger(__name__)

# At most as many images as the real test set, and as the real training set.
MAX_IMAGES_PER_CLASS = CIFAR10_TEST_IMAGES // NUM_CIFAR10_CLASSES
MAX_TRAIN_IMAGES_PER_CLASS = CIFAR10_TRAIN_IMAGES // NUM_CIFAR10_CLASSES
# The training images' stream is this child of the seed's; the test images use the seed's own
# stream, exactly as before training batches existed.
_TRAIN_STREAM = 1

# Distinct base colours (RGB) and stripe geometry per class so classes are separable.
_PALETTE = np.array(
    [
        [200, 40, 40],
        [40, 200, 40],
        [40, 40, 200],
        [200, 200, 40],
        [200, 40, 200],
        [40, 200, 200],
        [230, 140, 30],
        [120, 60, 20],
        [240, 240, 240],
        [30, 30, 30],
    ],
    dtype=np.float64,
)
# (dy, dx, period) per class: stripe direction and width.
_STRIPES = [
    (1, 0, 4),
    (0, 1, 4),
    (1, 1, 6),
    (1, -1, 6),
    (1, 0, 8),
    (0, 1, 8),
    (1, 2, 5),
    (2, 1, 5),
    (1, 0, 2),
    (0, 1, 2),
]


def _synthetic_image(label: int, rng: np.random.Generator) -> np.ndarray:
    """One HWC uint8 image: class colour, class stripes, random phase and noise."""
    dy, dx, period = _STRIPES[label]
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE]
    phase = int(rng.integers(0, period))
    stripes = (((yy * dy + xx * dx + phase) // max(period // 2, 1)) % 2).astype(np.float64)
    shade = 0.55 + 0.45 * stripes
    image = _PALETTE[label][None, None, :] * shade[:, :, None]
    image += rng.normal(0.0, 10.0, size=image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _tar_info(name: str, size: int, directory: bool = False) -> tarfile.TarInfo:
    """Member header with fixed metadata so the archive bytes are reproducible."""
    info = tarfile.TarInfo(name)
    info.size = 0 if directory else size
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def add_members(tar: tarfile.TarFile, directory: str, members: Iterable[tuple[str, bytes]]) -> None:
    """The folder ``directory``, then each (name, payload), with reproducible headers."""
    tar.addfile(_tar_info(directory, 0, directory=True))
    for name, payload in members:
        tar.addfile(_tar_info(name, len(payload)), io.BytesIO(payload))


def labelled_images(
    images_per_class: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Balanced, shuffled labels and their images (uint8 [N,32,32,3], uint8 [N])."""
    labels = rng.permutation(
        np.repeat(np.arange(NUM_CIFAR10_CLASSES, dtype=np.uint8), images_per_class)
    )
    images = np.stack([_synthetic_image(int(label), rng) for label in labels])
    return images, labels


def _train_members(train_images_per_class: int, seed: int) -> list[tuple[str, bytes]]:
    """The five training batches (none for 0), the images split as evenly as possible."""
    if train_images_per_class == 0:
        return []
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_TRAIN_STREAM,)))
    images, labels = labelled_images(train_images_per_class, rng)
    parts = np.array_split(np.arange(len(labels)), len(TRAIN_MEMBERS))
    return [
        (name, encode_records(images[part], labels[part]))
        for name, part in zip(TRAIN_MEMBERS, parts, strict=True)
    ]


def _check_train_images(train_images_per_class: int) -> None:
    if isinstance(train_images_per_class, bool) or not isinstance(train_images_per_class, int):
        raise UserError(
            f"synthetic_train_images_per_class must be an integer, got "
            f"{train_images_per_class!r}. Fix: set it to a whole number between 0 (no training "
            f"batches) and {MAX_TRAIN_IMAGES_PER_CLASS} in the config."
        )
    if not 0 <= train_images_per_class <= MAX_TRAIN_IMAGES_PER_CLASS:
        raise UserError(
            f"synthetic_train_images_per_class={train_images_per_class} is out of range. Fix: set "
            f"it between 0 (no training batches) and {MAX_TRAIN_IMAGES_PER_CLASS} in the config."
        )


def _check_settings(images_per_class: int, seed: int) -> None:
    if isinstance(images_per_class, bool) or not isinstance(images_per_class, int):
        raise UserError(
            f"synthetic_images_per_class must be an integer, got {images_per_class!r}. "
            f"Fix: set it to a whole number between 1 and {MAX_IMAGES_PER_CLASS} in the config."
        )
    if not 1 <= images_per_class <= MAX_IMAGES_PER_CLASS:
        raise UserError(
            f"synthetic_images_per_class={images_per_class} is out of range. Fix: set it between "
            f"1 and {MAX_IMAGES_PER_CLASS} in the config."
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(
            f"synthetic_seed must be a non-negative integer, got {seed!r}. Fix: set it to e.g. 0 "
            "in the config."
        )


def write_synthetic_archive(
    dest: str | Path, images_per_class: int, seed: int, *, train_images_per_class: int = 0
) -> str:
    """Write a small, byte-for-byte deterministic archive in CIFAR-10's binary format.

    With ``train_images_per_class`` > 0 it also holds the five training batches. Also writes
    ``<dest>.md5`` (one line: the hex digest). Returns the digest.
    """
    _check_settings(images_per_class, seed)
    _check_train_images(train_images_per_class)
    images, labels = labelled_images(images_per_class, np.random.default_rng(seed))
    train = _train_members(train_images_per_class, seed)
    # Training batches go last, so an archive without them is byte-identical to earlier ones.
    members = [
        (META_MEMBER, ("\n".join(CIFAR10_CLASSES) + "\n\n").encode("ascii")),
        (TEST_MEMBER, encode_records(images, labels)),
        *train,
    ]

    dest = Path(dest)
    # filename="" keeps the temp name out of the gzip header; mtime=0 fixes the timestamp.
    with (
        atomic_path(dest) as temp,
        open(temp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        add_members(tar, ARCHIVE_DIR, members)
    md5 = write_md5_sidecar(dest)
    log.info(
        "wrote %s with %d images and %d training images (seed %d), MD5 %s",
        dest,
        len(labels),
        train_images_per_class * NUM_CIFAR10_CLASSES,
        seed,
        md5,
    )
    return md5
