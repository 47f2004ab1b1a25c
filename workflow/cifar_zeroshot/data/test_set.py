"""The test set as the workflow keeps it: data/<dataset>/test_set.npz.

It holds the images and labels, and where they came from: the MD5 of the archive they were read
from and that archive's image count, so that a file cut, edited or left over from another
archive can be told from the one the workflow built (cifar_zeroshot.data.image_set, shared with the
training set, does the writing and checking). It is checked again whenever it is loaded, so a
foreign or damaged file is reported rather than benchmarked. The digest of the images and
labels a run scored (images_digest) goes into that run's facts.
"""

import hashlib
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import read_test_batch
from cifar_zeroshot.data.checksums import verify_archive
from cifar_zeroshot.data.image_set import (
    ArchiveOrigin,
    load_image_set,
    read_image_origin,
    save_image_set,
)

_KIND = "test"


def save_test_set(
    path: str | Path, images: np.ndarray, labels: np.ndarray, archive_md5: str
) -> None:
    """Write images/labels and their archive's MD5 to an .npz atomically (after validating)."""
    save_image_set(path, images, labels, archive_md5, _KIND)


def read_origin(path: str | Path) -> ArchiveOrigin:
    """The origin of a test set file, reading its labels but not its images (cheap)."""
    return read_image_origin(path, _KIND)


def load_test_set(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Load (images uint8 [N,32,32,3], labels uint8 [N]) written by save_test_set.

    A file without origin arrays (written by hand, as tests do) loads; one whose row count
    differs from its recorded archive's is refused.
    """
    return load_image_set(path, _KIND)


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


def prepare_test_set(
    archive: str | Path,
    expected_md5: str,
    expected_size: int | None,
    out_path: str | Path,
    md5_source: str | Path | None = None,
) -> None:
    """Verify the archive's checksum, read its test batch, and save it as an .npz.

    ``md5_source``: the sidecar ``expected_md5`` was read from, named if they disagree.
    """
    verify_archive(archive, expected_md5, expected_size, md5_source)
    images, labels = read_test_batch(archive)
    save_test_set(out_path, images, labels, expected_md5)
