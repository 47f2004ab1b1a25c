"""What a run scores of the test set: data/<dataset>/test_set.npz after the limit, and its digest.

The file itself is written, loaded and checked as every image set is (cifar_zeroshot.data.
image_set, kind ImageSet.TEST). The digest of the images and labels a run scored
(images_digest) goes
into that run's facts, so that the metrics can tell which images a stored file describes.
"""

import hashlib
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.errors import UserError


def first_images(
    images: np.ndarray, labels: np.ndarray, limit: int | None, path: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` images and labels (all for None): what a run with that limit scores."""
    if limit is None:
        return images, labels
    if limit > len(images):
        raise UserError(
            f"limit {limit} is more than the {len(images)} images in {path}. Lower limit, or set "
            f"it to null to use all images. If the dataset has more images than that, {path} is "
            f"damaged or stale: delete it and rerun snakemake to rebuild it from the archive."
        )
    return images[:limit], labels[:limit]


def images_digest(images: np.ndarray, labels: np.ndarray) -> str:
    """SHA-256 over the images and labels (dtype and shape first, so no two sets share bytes)."""
    digest = hashlib.sha256()
    for array in (images, labels):
        digest.update(f"{array.dtype.str}{array.shape}".encode("ascii"))
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()
