"""Is data/<dataset>/test_set.npz the test set the configuration describes?

It must hold exactly the dataset's images (10,000 for cifar10, 10 x synthetic_images_per_class
for synthetic) and have been read from the archive the workflow expects (the official MD5, or
the synthetic archive's sidecar). Checked twice: before any job starts, where a file no rule
would replace is refused before Snakemake deletes any finished output; and by the metrics rule,
which scores nothing against a test set it has not checked.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import CIFAR10_MD5
from cifar_zeroshot.data.test_set import (
    ArchiveOrigin,
    first_images,
    images_digest,
    load_test_set,
    read_origin,
)

# Datasets whose archive is a fixed file: a test set from any other archive is never rebuilt.
FIXED_ARCHIVE_MD5 = {"cifar10": CIFAR10_MD5}


@dataclass(frozen=True)
class ConfiguredTestSet:
    """The images a run with the configured limit scores, as the runs' facts record them."""

    path: Path
    labels: np.ndarray  # after the limit, in image order
    sha256: str  # images_digest of the images and labels after the limit

    @property
    def image_count(self) -> int:
        return len(self.labels)


def _fix(path: Path) -> str:
    return f"Fix: delete {path} and rerun snakemake to rebuild it from the archive."


def _check_origin(
    path: Path, origin: ArchiveOrigin, dataset: str, expected_images: int, expected_md5: str
) -> None:
    if origin.archive_md5 != expected_md5.lower():
        raise UserError(
            f"Test set {path} was read from an archive with MD5 {origin.archive_md5}, but "
            f"dataset {dataset!r}'s archive has MD5 {expected_md5.lower()}: the file is stale or "
            f"comes from elsewhere. {_fix(path)}"
        )
    if origin.images != expected_images:
        raise UserError(
            f"Test set {path} holds {origin.images} images, but dataset {dataset!r} has "
            f"{expected_images}: the file is damaged or stale. {_fix(path)}"
        )


def check_built_test_set(path: str | Path, dataset: str, expected_images: int) -> None:
    """Before any job: refuse a test set on disk that is damaged or can never be the right one.

    A cut or hand-made file is refused whatever the dataset, and so is a cifar10 test set from
    another archive. A synthetic test set of another size that its archive vouches for is left
    alone: it is stale because synthetic_images_per_class or synthetic_seed changed, and those
    settings make Snakemake rebuild the archive and then the test set.
    """
    path = Path(path)
    if not path.exists():
        return
    origin = read_origin(path)  # refuses a file without origin, or cut after it was built
    if dataset in FIXED_ARCHIVE_MD5:
        _check_origin(path, origin, dataset, expected_images, FIXED_ARCHIVE_MD5[dataset])


def load_configured_test_set(
    path: str | Path, dataset: str, expected_images: int, expected_md5: str, limit: int | None
) -> ConfiguredTestSet:
    """Load the test set, refuse it unless it is the configured one, and apply the limit."""
    path = Path(path)
    images, labels = load_test_set(path)
    _check_origin(path, read_origin(path), dataset, expected_images, expected_md5)
    images, labels = first_images(images, labels, limit, path)
    return ConfiguredTestSet(path, labels, images_digest(images, labels))
