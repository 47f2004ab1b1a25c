"""The test set as the workflow keeps it: data/<dataset>/test_set.npz (images and labels).

It is built once from the verified archive, and checked again whenever it is loaded, so a
foreign or damaged file is reported rather than benchmarked.
"""

import logging
import zipfile
from pathlib import Path

import numpy as np

from cifar_zeroshot.atomic import atomic_path
from cifar_zeroshot.checksums import verify_archive
from cifar_zeroshot.cifar_archive import CHANNELS, IMAGE_SIZE, NUM_CLASSES, read_test_batch
from cifar_zeroshot.errors import UserError

log = logging.getLogger(__name__)


def _validate_arrays(images: np.ndarray, labels: np.ndarray) -> str | None:
    """Describe what is wrong with the arrays, or None if they form a valid test set."""
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        return f"dtypes are images {images.dtype}, labels {labels.dtype} (both must be uint8)"
    if images.ndim != 4 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, CHANNELS):
        return f"images have shape {images.shape}, expected (N, 32, 32, 3)"
    if labels.shape != (images.shape[0],) or images.shape[0] == 0:
        return f"labels have shape {labels.shape} for {images.shape[0]} images (need N > 0)"
    if labels.max() >= NUM_CLASSES:
        return f"label {int(labels.max())} is outside 0..{NUM_CLASSES - 1}"
    return None


def save_test_set(path: str | Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Write images/labels to an .npz atomically (after validating them)."""
    problem = _validate_arrays(np.asarray(images), np.asarray(labels))
    if problem is not None:
        raise UserError(
            f"Refusing to write test set {path}: {problem}. Fix: rebuild it from the archive "
            "with the workflow."
        )
    with atomic_path(path) as temp, open(temp, "wb") as out:
        np.savez(out, images=images, labels=labels)
    log.info("wrote %d test images to %s", len(labels), path)


def load_test_set(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Load (images uint8 [N,32,32,3], labels uint8 [N]) written by save_test_set."""
    path = Path(path)
    fix = f"Fix: delete {path} and rerun the workflow to rebuild it from the archive."
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError as error:
        raise UserError(
            f"Test set {path} not found. Fix: run the workflow to build it from the archive."
        ) from error
    except (OSError, ValueError, EOFError) as error:
        raise UserError(f"Test set {path} is not a readable .npz ({error}). {fix}") from error
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise UserError(f"Test set {path} holds a single array, not an .npz archive. {fix}")
    try:
        with loaded as npz:
            missing = {"images", "labels"} - set(npz.files)
            if missing:
                raise UserError(f"Test set {path} lacks arrays {sorted(missing)}. {fix}")
            images, labels = npz["images"], npz["labels"]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(f"Test set {path} is not a readable .npz ({error}). {fix}") from error
    problem = _validate_arrays(images, labels)
    if problem is not None:
        raise UserError(f"Test set {path} is invalid: {problem}. {fix}")
    log.info("read %d test images from %s", len(labels), path)
    return images, labels


def prepare_test_set(
    archive: str | Path, expected_md5: str, expected_size: int | None, out_path: str | Path
) -> None:
    """Verify the archive's checksum, read its test batch, and save it as an .npz."""
    verify_archive(archive, expected_md5, expected_size)
    images, labels = read_test_batch(archive)
    save_test_set(out_path, images, labels)
