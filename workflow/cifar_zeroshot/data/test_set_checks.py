"""Is data/<dataset>/test_set.npz the test set the configuration describes?

It must hold exactly the dataset's images (10,000 for cifar10, 10 x synthetic_images_per_class
for synthetic) and have been read from the archive the workflow expects (the official MD5, or
the synthetic archive's sidecar). Checked twice: before any job starts, where a file no rule
would replace is refused before Snakemake deletes any finished output; and by the metrics rule,
which scores nothing against a test set it has not checked. The training set (with the linear
probe) is checked the same way before any job starts; the probe job checks it again.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.choices import CIFAR10_TRAIN_IMAGES
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import CIFAR10_MD5
from cifar_zeroshot.data.image_set import (
    ArchiveOrigin,
    ImageSet,
    StoredImageSet,
    image_chunks,
    open_image_set,
    read_image_origin,
)
from cifar_zeroshot.data.test_set import chunked_images_digest, limited_count

# Datasets whose archive is a fixed file: an image set from any other archive is never rebuilt.
FIXED_ARCHIVE_MD5 = {"cifar10": CIFAR10_MD5}
# The training images of such a dataset (its test images are the config's dataset_size).
FIXED_TRAIN_IMAGES = {"cifar10": CIFAR10_TRAIN_IMAGES}


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
    path: Path,
    origin: ArchiveOrigin,
    dataset: str,
    expected_images: int,
    expected_md5: str,
    kind: ImageSet = ImageSet.TEST,
) -> None:
    title = kind.label
    if origin.archive_md5 != expected_md5.lower():
        raise UserError(
            f"{title} {path} was read from an archive with MD5 {origin.archive_md5}, but "
            f"dataset {dataset!r}'s archive has MD5 {expected_md5.lower()}: the file is stale or "
            f"comes from elsewhere. {_fix(path)}"
        )
    if origin.images != expected_images:
        raise UserError(
            f"{title} {path} holds {origin.images} images, but dataset {dataset!r} has "
            f"{expected_images}: the file is damaged or stale. {_fix(path)}"
        )


def check_built_image_set(path: str | Path, kind: ImageSet, dataset: str, test_images: int) -> None:
    """Before any job: refuse an image set on disk that is damaged or can never be the right one.

    A cut, truncated or hand-made file is refused whatever the dataset, and so is a cifar10 set
    from another archive. A synthetic set of another size that its archive vouches for is left
    alone: it is stale because the synthetic_* settings changed, and those make Snakemake
    rebuild the archive and then the set. ``test_images``: the dataset's test images.
    """
    path = Path(path)
    if not path.exists():
        return
    origin = read_image_origin(path, kind)  # refuses a file unreadable, without origin, or cut
    if dataset in FIXED_ARCHIVE_MD5:
        expected = test_images if kind == ImageSet.TEST else FIXED_TRAIN_IMAGES[dataset]
        _check_origin(path, origin, dataset, expected, FIXED_ARCHIVE_MD5[dataset], kind)


def _configured(stored: StoredImageSet, limit: int | None) -> ConfiguredTestSet:
    """The images a run with ``limit`` scores of ``stored``: their labels and digest, the
    images read from the file a chunk at a time (a CIFAR-10-C selection's are gigabytes)."""
    count = limited_count(len(stored.labels), limit, stored.path)
    labels = stored.labels[:count]
    shape = (count, *stored.images_shape[1:])
    chunks = image_chunks(stored, count)
    digest = chunked_images_digest(stored.images_dtype, shape, chunks, labels)
    return ConfiguredTestSet(stored.path, labels, digest)


def read_test_set(path: str | Path, limit: int | None) -> ConfiguredTestSet:
    """The image set a run with ``limit`` scores (its file is checked as it loads)."""
    return _configured(open_image_set(path, ImageSet.TEST), limit)


def load_configured_test_set(
    path: str | Path, dataset: str, expected_images: int, expected_md5: str, limit: int | None
) -> ConfiguredTestSet:
    """Load the test set, refuse it unless it is the configured one, and apply the limit."""
    path = Path(path)
    stored = open_image_set(path, ImageSet.TEST)
    _check_origin(
        path, read_image_origin(path, ImageSet.TEST), dataset, expected_images, expected_md5
    )
    return _configured(stored, limit)
