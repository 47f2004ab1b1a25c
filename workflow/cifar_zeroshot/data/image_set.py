"""An image set as the workflow keeps it: data/<dataset>/test_set.npz or train_set.npz.

The file holds the images and labels, and where they came from: the MD5 of the archive they
were read from and how many images of that set the archive holds, so that a file cut, edited or
left over from another archive can be told from the one the workflow built. It is checked again
whenever it is loaded, so a foreign or damaged file is reported rather than used. The test and
training sets differ only in the archive members they are read from and in what their messages
call them (``kind``: ImageSet.TEST or ImageSet.TRAINING).
"""

import logging
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.data.archive import (
    CHANNELS,
    IMAGE_SIZE,
    read_test_batch,
    read_train_batches,
)
from cifar_zeroshot.data.checksums import verify_archive

log = logging.getLogger(__name__)

# The arrays beside images and labels that say which archive the file was read from.
ORIGIN_ARRAYS = ("archive_md5", "archive_images")
# A set read from a user's files records their SHA-256 in place of an archive's MD5.
SOURCE_DIGEST = "source_sha256"
# Where in that archive, for the shifted test sets: the file or tar member, and the corruption
# severity of a CIFAR-10-C block (written only for those sets).
MEMBER_ARRAYS = ("archive_member", "severity")
# A selection of CIFAR-10-C blocks records each block it holds, in row order: what blocks.csv
# beside it must say before its rows are believed.
BLOCK_ARRAYS = ("block_corruption", "block_severity", "block_images")
# How many bytes of images are read at once where a file's images are read in chunks
# (image_chunks): a 750,000-image CIFAR-10-C selection is 2.3 GB of them.
_CHUNK_BYTES = 64 * 2**20


class ImageSet(StrEnum):
    """CIFAR-10's two image sets; the value is what messages call one ("test", "training")."""

    TEST = "test"
    TRAINING = "training"

    @property
    def label(self) -> str:
        """How a message starts when it names the set: "Test set", "Training set"."""
        return f"{self.value.capitalize()} set"


# The archive members each set is read from.
_READ_FROM_ARCHIVE: dict[ImageSet, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    ImageSet.TEST: read_test_batch,
    ImageSet.TRAINING: read_train_batches,
}


@dataclass(frozen=True)
class ArchiveOrigin:
    """What an image set file says about itself without loading its images."""

    images: int  # the rows the file holds (its labels)
    archive_md5: str | None  # of the archive it was read from (None: a user's files)
    archive_images: int  # the images of this set that archive holds
    member: str | None = None  # the file or tar member read (shifted test sets only)
    severity: int | None = None  # a CIFAR-10-C block's corruption severity
    source_sha256: str | None = None  # of the user's files it was read from


def _fix(path: Path) -> str:
    return f"Fix: delete {path} and rerun snakemake to rebuild it from the archive."


def validate_arrays(images: np.ndarray, labels: np.ndarray) -> str | None:
    """Describe what is wrong with the arrays, or None if they form a valid image set."""
    return _validate(images.dtype, images.shape, labels)


def _validate(
    images_dtype: np.dtype, images_shape: tuple[int, ...], labels: np.ndarray
) -> str | None:
    """validate_arrays from the images' dtype and shape alone (an .npy header's)."""
    if images_dtype != np.uint8 or labels.dtype != np.uint8:
        return f"dtypes are images {images_dtype}, labels {labels.dtype} (both must be uint8)"
    if len(images_shape) != 4 or images_shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, CHANNELS):
        return f"images have shape {images_shape}, expected (N, 32, 32, 3)"
    if labels.shape != (images_shape[0],) or images_shape[0] == 0:
        return f"labels have shape {labels.shape} for {images_shape[0]} images (need N > 0)"
    if labels.max() >= NUM_CIFAR10_CLASSES:
        return f"label {int(labels.max())} is outside 0..{NUM_CIFAR10_CLASSES - 1}"
    return None


def save_image_set(
    path: str | Path,
    images: np.ndarray,
    labels: np.ndarray,
    archive_md5: str | None,
    kind: ImageSet,
    *,
    member: str | None = None,
    severity: int | None = None,
    source_sha256: str | None = None,
    blocks: Sequence[tuple[str, int, int]] | None = None,
) -> None:
    """Write images/labels and their archive's MD5 to an .npz atomically (after validating).

    ``member`` and ``severity``: which file or tar member (and CIFAR-10-C severity) they are.
    ``source_sha256`` instead of ``archive_md5``: the digest of the user's files read.
    ``blocks``: a selection's (corruption, severity, images) per block, in row order.
    """
    if (archive_md5 is None) == (source_sha256 is None):
        raise ValueError("an image set records either its archive's MD5 or its files' SHA-256")
    problem = validate_arrays(np.asarray(images), np.asarray(labels))
    if problem is not None:
        raise UserError(
            f"Refusing to write {kind} set {path}: {problem}. Fix: rebuild it from the archive "
            "with the workflow."
        )
    where = {} if member is None else {"archive_member": np.array(member)}
    if severity is not None:
        where["severity"] = np.array(severity, dtype=np.int64)
    if blocks is not None:
        if sum(images for _, _, images in blocks) != len(labels):
            raise ValueError("a selection's blocks must add up to its rows")
        corruptions, severities, counts = zip(*blocks, strict=True) if blocks else ((), (), ())
        where["block_corruption"] = np.array(corruptions, dtype=str)
        where["block_severity"] = np.array(severities, dtype=np.int64)
        where["block_images"] = np.array(counts, dtype=np.int64)
    digest = (
        {"archive_md5": np.array(archive_md5.lower())}
        if archive_md5 is not None
        else {SOURCE_DIGEST: np.array(str(source_sha256).lower())}
    )
    with atomic_path(path) as temp, open(temp, "wb") as out:
        np.savez(
            out,
            images=images,
            labels=labels,
            **digest,
            archive_images=np.array(len(labels), dtype=np.int64),
            **where,
        )
    log.info("wrote %d %s images to %s", len(labels), kind, path)


def _read_arrays(
    path: Path, names: tuple[str, ...], kind: ImageSet, unread: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """The named arrays of the .npz at ``path`` (and its origin arrays where it has them);
    ``unread`` names arrays it must hold that are not read."""
    title = kind.label
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError as error:
        raise UserError(
            f"{title} {path} not found. Fix: run the workflow to build it from the archive."
        ) from error
    # A cut .npz still starts like a zip file: np.load opens it, and zipfile finds no directory.
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(f"{title} {path} is not a readable .npz ({error}). {_fix(path)}") from error
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise UserError(f"{title} {path} holds a single array, not an .npz archive. {_fix(path)}")
    try:
        with loaded as npz:
            missing = {*names, *unread} - set(npz.files)
            if missing:
                raise UserError(f"{title} {path} lacks arrays {sorted(missing)}. {_fix(path)}")
            wanted = (*names, *ORIGIN_ARRAYS, SOURCE_DIGEST, *MEMBER_ARRAYS)
            return {name: npz[name] for name in wanted if name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(f"{title} {path} is not a readable .npz ({error}). {_fix(path)}") from error


def _origin(path: Path, arrays: dict[str, np.ndarray], kind: ImageSet) -> ArchiveOrigin:
    """The file's origin; refused when it records none or holds other rows than its archive."""
    title = kind.label
    digest_name = SOURCE_DIGEST if SOURCE_DIGEST in arrays else "archive_md5"
    if not {digest_name, "archive_images"} <= set(arrays):
        raise UserError(
            f"{title} {path} records no archive MD5: it was written by an older version of "
            f"this workflow or by hand, so nothing shows which images it holds. {_fix(path)}"
        )
    md5, count = arrays[digest_name], arrays["archive_images"]
    if md5.shape or md5.dtype.kind != "U" or count.shape or count.dtype.kind not in "iu":
        raise UserError(f"{title} {path} records its archive in another form. {_fix(path)}")
    member, severity = arrays.get("archive_member"), arrays.get("severity")
    if (member is not None and (member.shape or member.dtype.kind != "U")) or (
        severity is not None and (severity.shape or severity.dtype.kind not in "iu")
    ):
        raise UserError(f"{title} {path} records its archive in another form. {_fix(path)}")
    origin = ArchiveOrigin(
        len(arrays["labels"]),
        str(md5[()]) if digest_name == "archive_md5" else None,
        int(count[()]),
        None if member is None else str(member[()]),
        None if severity is None else int(severity[()]),
        str(md5[()]) if digest_name == SOURCE_DIGEST else None,
    )
    if origin.images != origin.archive_images:
        raise UserError(
            f"{title} {path} holds {origin.images} images, but the archive it was read from "
            f"has {origin.archive_images}: the file was cut or altered. {_fix(path)}"
        )
    return origin


def read_image_origin(path: str | Path, kind: ImageSet) -> ArchiveOrigin:
    """The origin of an image set file, reading its labels but not its images (cheap)."""
    path = Path(path)
    return _origin(path, _read_arrays(path, ("labels",), kind), kind)


def read_image_blocks(path: str | Path) -> list[tuple[str, int, int]] | None:
    """A selection's recorded (corruption, severity, images) per block, in row order; None for
    an image set that is no selection (it records no blocks)."""
    path = Path(path)
    arrays = _read_arrays(path, ("labels",), ImageSet.TEST)
    _origin(path, arrays, ImageSet.TEST)
    with np.load(path, allow_pickle=False) as npz:
        if not set(BLOCK_ARRAYS) <= set(npz.files):
            return None
        corruption, severity, images = (npz[name] for name in BLOCK_ARRAYS)
    return [(str(c), int(s), int(n)) for c, s, n in zip(corruption, severity, images, strict=True)]


def load_image_set(path: str | Path, kind: ImageSet) -> tuple[np.ndarray, np.ndarray]:
    """Load (images uint8 [N,32,32,3], labels uint8 [N]) written by save_image_set.

    A file without origin arrays (written by hand, as tests do) loads; one whose row count
    differs from its recorded archive's is refused.
    """
    path = Path(path)
    arrays = _read_arrays(path, ("images", "labels"), kind)
    images, labels = arrays["images"], arrays["labels"]
    problem = validate_arrays(images, labels)
    if problem is not None:
        raise UserError(f"{kind.label} {path} is invalid: {problem}. {_fix(path)}")
    if {*ORIGIN_ARRAYS, SOURCE_DIGEST} & set(arrays):
        _origin(path, arrays, kind)
    log.info("read %d %s images from %s", len(labels), kind, path)
    return images, labels


def _unreadable(path: Path, kind: ImageSet, error: Exception) -> UserError:
    return UserError(f"{kind.label} {path} is not a readable .npz ({error}). {_fix(path)}")


def _npy_header(stream: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of the .npy array ``stream`` starts with; the stream is
    left where its data starts."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream)
    raise ValueError(f"unsupported .npy format version {version}")


def _images_header(path: Path, kind: ImageSet) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of the file's images, from their .npy header alone."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("images.npy") as member:
            return _npy_header(member)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise _unreadable(path, kind, error) from error


@dataclass(frozen=True)
class StoredImageSet:
    """An image set file checked as load_image_set checks it, its images left on disk: their
    dtype and shape from the file's header, their bytes from image_chunks."""

    path: Path
    kind: ImageSet
    images_dtype: np.dtype
    images_shape: tuple[int, ...]
    labels: np.ndarray
    fortran_order: bool  # images stored column-major (never by save_image_set)


def open_image_set(path: str | Path, kind: ImageSet) -> StoredImageSet:
    """The labels of the image set at ``path`` and what its images are, every check of
    load_image_set made, without reading the images."""
    path = Path(path)
    arrays = _read_arrays(path, ("labels",), kind, unread=("images",))
    shape, fortran, dtype = _images_header(path, kind)
    labels = arrays["labels"]
    problem = _validate(dtype, shape, labels)
    if problem is not None:
        raise UserError(f"{kind.label} {path} is invalid: {problem}. {_fix(path)}")
    if {*ORIGIN_ARRAYS, SOURCE_DIGEST} & set(arrays):
        _origin(path, arrays, kind)
    return StoredImageSet(path, kind, dtype, tuple(shape), labels, fortran)


def image_chunks(stored: StoredImageSet, rows: int) -> Iterator[bytes]:
    """The bytes of the first ``rows`` images (in C order, as ``images[:rows]`` holds them),
    a chunk at a time. The whole member is read, as np.load reads it, so a damaged file is
    refused (the zip's CRC check runs at its end) whatever ``rows``."""
    path, kind = stored.path, stored.kind
    if stored.fortran_order:  # its bytes are not in image order: load it as a whole
        yield np.ascontiguousarray(load_image_set(path, kind)[0][:rows]).tobytes()
        return
    row_bytes = int(np.prod(stored.images_shape[1:])) * stored.images_dtype.itemsize
    wanted = rows * row_bytes
    chunk = max(row_bytes, _CHUNK_BYTES // row_bytes * row_bytes)
    try:
        with zipfile.ZipFile(path) as archive, archive.open("images.npy") as member:
            _npy_header(member)
            given = 0
            while data := member.read(chunk):
                if given < wanted:
                    yield data[: wanted - given]
                given += len(data)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise _unreadable(path, kind, error) from error
    if given != stored.images_shape[0] * row_bytes:
        raise _unreadable(
            path, kind, ValueError(f"{given} bytes of images, not as its header says")
        )


def prepare_image_set(
    archive: str | Path,
    expected_md5: str,
    expected_size: int | None,
    out_path: str | Path,
    kind: ImageSet,
    md5_source: str | Path | None = None,
) -> None:
    """Verify the archive's checksum, read the ``kind`` set's batches, and save them as an .npz.

    ``md5_source``: the sidecar ``expected_md5`` was read from, named if they disagree. Only the
    generated synthetic archive has one, so a damaged archive is then regenerated, not downloaded.
    """
    verify_archive(archive, expected_md5, expected_size, md5_source)
    images, labels = _READ_FROM_ARCHIVE[kind](archive, generated=md5_source is not None)
    save_image_set(out_path, images, labels, expected_md5, kind)
