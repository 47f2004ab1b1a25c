"""What a run scores of the test set: data/<dataset>/test_set.npz after the limit, and its digest.

The file itself is written, loaded and checked as every image set is (cifar_zeroshot.data.
image_set, kind ImageSet.TEST). The digest of the images and labels a run scored
(images_digest) goes
into that run's facts, so that the metrics can tell which images a stored file describes.
"""

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.errors import UserError


def limited_count(images: int, limit: int | None, path: str | Path) -> int:
    """How many of a file's ``images`` a run with ``limit`` scores (all for None)."""
    if limit is None:
        return images
    if limit > images:
        raise UserError(
            f"limit {limit} is more than the {images} images in {path}. Lower limit, or set "
            f"it to null to use all images. If the dataset has more images than that, {path} is "
            f"damaged or stale: delete it and rerun snakemake to rebuild it from the archive."
        )
    return limit


def first_images(
    images: np.ndarray, labels: np.ndarray, limit: int | None, path: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` images and labels (all for None): what a run with that limit scores."""
    if limit is None:
        return images, labels
    count = limited_count(len(images), limit, path)
    return images[:count], labels[:count]


def images_digest(images: np.ndarray, labels: np.ndarray) -> str:
    """SHA-256 over the images and labels (dtype and shape first, so no two sets share bytes)."""
    return chunked_images_digest(
        images.dtype, images.shape, [np.ascontiguousarray(images).data], labels
    )


def chunked_images_digest(
    images_dtype: np.dtype,
    images_shape: tuple[int, ...],
    images_bytes: Iterable[bytes | memoryview],
    labels: np.ndarray,
) -> str:
    """images_digest of images given as their dtype, shape and bytes (C order) in chunks, so
    that a file's images are digested without holding them (image_set.image_chunks)."""
    digest = hashlib.sha256()
    shape = tuple(int(n) for n in images_shape)  # as ndarray.shape writes it
    digest.update(f"{np.dtype(images_dtype).str}{shape}".encode("ascii"))
    for chunk in images_bytes:
        digest.update(chunk)
    digest.update(f"{labels.dtype.str}{labels.shape}".encode("ascii"))
    digest.update(np.ascontiguousarray(labels).data)
    return digest.hexdigest()
