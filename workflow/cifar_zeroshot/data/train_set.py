"""The training set as the workflow keeps it: data/<dataset>/train_set.npz, for the linear probe.

It is read from the archive's five training batches and kept like the test set (images, labels
and the archive they came from; cifar_zeroshot.data.image_set writes and checks both). The real
archive holds CIFAR10_TRAIN_IMAGES training images; a synthetic one holds whatever it was made
with, so no count is fixed here.
"""

from pathlib import Path

import numpy as np

from cifar_zeroshot.data.archive import read_train_batches
from cifar_zeroshot.data.checksums import verify_archive
from cifar_zeroshot.data.image_set import (
    ArchiveOrigin,
    load_image_set,
    read_image_origin,
    save_image_set,
)

_KIND = "training"


def prepare_train_set(
    archive: str | Path,
    expected_md5: str,
    expected_size: int | None,
    out_path: str | Path,
    md5_source: str | Path | None = None,
) -> None:
    """Verify the archive's checksum, read its five training batches, and save them as an .npz.

    ``md5_source``: the sidecar ``expected_md5`` was read from, named if they disagree.
    """
    verify_archive(archive, expected_md5, expected_size, md5_source)
    images, labels = read_train_batches(archive)
    save_image_set(out_path, images, labels, expected_md5, _KIND)


def read_train_origin(path: str | Path) -> ArchiveOrigin:
    """The origin of a training set file, reading its labels but not its images (cheap)."""
    return read_image_origin(path, _KIND)


def load_train_set(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Load (images uint8 [N,32,32,3], labels uint8 [N]) written by prepare_train_set.

    A file without origin arrays (written by hand, as tests do) loads; one whose row count
    differs from its recorded archive's is refused.
    """
    return load_image_set(path, _KIND)
