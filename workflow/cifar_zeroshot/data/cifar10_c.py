"""CIFAR-10-C (Hendrycks and Dietterich 2019): CIFAR-10's test images under common corruptions.

``CIFAR-10-C.tar`` (uncompressed) holds ``CIFAR-10-C/labels.npy`` (the test labels five times)
and one uint8 [5 x N, 32, 32, 3] ``.npy`` per corruption, severities 1-5 in blocks of N images in
test-set order. The archive is checked by size and MD5, every member is vetted as CIFAR-10's are
(archive.check_member_safety, archive.vetted_members) before anything is read, its labels must be
five copies of CIFAR-10's test labels, and only the corruption asked for is read: each severity's
block is kept as data/<dataset>/cifar10-c/<corruption>/severity<s>.npz in the image-set format,
its origin the archive's MD5, the member and the severity.
"""

import logging
import tarfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.choices import CIFAR10_TEST_IMAGES, CORRUPTIONS, SEVERITIES
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import (
    PIXEL_BYTES,
    check_member_safety,
    member_error,
    vetted_members,
)
from cifar_zeroshot.data.checksums import archive_not_found, verify_archive
from cifar_zeroshot.data.image_set import ImageSet, save_image_set
from cifar_zeroshot.data.npy_arrays import read_npy_images, read_npy_labels

log = logging.getLogger(__name__)

# Zenodo record 2535967 (CC BY 4.0).
ARCHIVE_NAME = "CIFAR-10-C.tar"
URL = f"https://zenodo.org/records/2535967/files/{ARCHIVE_NAME}"
ARCHIVE_BYTES = 2_918_471_680
MD5 = "56bf5dcef84df0e2308c6dcbcbbd8499"
# Where the workflow expects the real archive (relative to the working directory).
ARCHIVE_PATH = f"data/{ARCHIVE_NAME}"
# The synthetic dataset's generated stand-in, with an MD5 sidecar (FILE.md5).
SYNTHETIC_ARCHIVE_PATH = f"data/synthetic/{ARCHIVE_NAME}"

ARCHIVE_DIR = "CIFAR-10-C"
LABELS_MEMBER = f"{ARCHIVE_DIR}/labels.npy"
# An .npy header is at most 64 KiB (format 2.0 allows more; no real file needs it).
_MAX_HEADER_BYTES = 1 << 16
_MAX_IMAGES_BYTES = len(SEVERITIES) * CIFAR10_TEST_IMAGES * PIXEL_BYTES + _MAX_HEADER_BYTES
_MAX_LABELS_BYTES = len(SEVERITIES) * CIFAR10_TEST_IMAGES * 8 + _MAX_HEADER_BYTES


def corruption_member(corruption: str) -> str:
    return f"{ARCHIVE_DIR}/{corruption}.npy"


def block_path(dataset: str, corruption: str, severity: int) -> str:
    """Where one (corruption, severity) block is kept as an image set."""
    return f"data/{dataset}/cifar10-c/{corruption}/severity{severity}.npz"


EXPECTED_MEMBERS: frozenset[str] = frozenset(
    {ARCHIVE_DIR, LABELS_MEMBER, *(corruption_member(c) for c in CORRUPTIONS)}
)


def archive_fix(archive: Path, generated: bool) -> str:
    if generated:
        return (
            f"Fix: delete {archive} and rerun snakemake: it is generated, so the workflow makes "
            "it again."
        )
    return (
        f"Fix: delete {archive} and rerun to download it again, or place the genuine "
        f"{ARCHIVE_NAME} there."
    )


def check_member(archive: Path, member: tarfile.TarInfo, fix: str) -> None:
    """Reject anything that is not one of CIFAR-10-C's plain members with a sane size."""
    name = member.name
    check_member_safety(archive, member, fix)
    if name not in EXPECTED_MEMBERS:
        raise member_error(archive, name, "unexpected member", "not a member of CIFAR-10-C", fix)
    if name == ARCHIVE_DIR:
        if not member.isdir():
            raise member_error(archive, name, "unexpected member", "should be a directory", fix)
        return
    if not member.isreg():
        raise member_error(archive, name, "unexpected member", "should be a regular file", fix)
    limit = _MAX_LABELS_BYTES if name == LABELS_MEMBER else _MAX_IMAGES_BYTES
    if member.size > limit:
        why = f"size {member.size:,} bytes is too large (at most {limit:,})"
        raise member_error(archive, name, "unexpected member", why, fix)


def _read_corruption(archive: Path, corruption: str, fix: str) -> tuple[np.ndarray, np.ndarray]:
    """Vet every member, then read labels.npy and the corruption's images (nothing else)."""
    member_name = corruption_member(corruption)
    try:
        with tarfile.open(archive, mode="r:") as tar:
            by_name = vetted_members(archive, tar, fix, check_member)
            for required in (LABELS_MEMBER, member_name):
                if required not in by_name:
                    raise UserError(f"Archive {archive} has no member {required!r}. {fix}")
            streams = {
                name: tar.extractfile(by_name[name]) for name in (LABELS_MEMBER, member_name)
            }
            labels = read_npy_labels(streams[LABELS_MEMBER], f"{archive}: {LABELS_MEMBER}", fix)
            images = read_npy_images(streams[member_name], f"{archive}: {member_name}", fix)
    except FileNotFoundError as error:
        raise archive_not_found(archive) from error
    except (tarfile.TarError, EOFError, OSError) as error:
        raise UserError(
            f"Archive {archive} is not a readable tar ({error}); it is probably truncated or "
            f"corrupt. {fix}"
        ) from error
    return images, labels


def _check_labels(
    archive: Path, labels: np.ndarray, images: int, test_labels: np.ndarray, fix: str
) -> None:
    """labels.npy must be the test labels once per severity, and match the images' count."""
    expected = np.tile(test_labels, len(SEVERITIES))
    if labels.shape != expected.shape or not np.array_equal(labels, expected):
        raise UserError(
            f"Archive {archive}: {LABELS_MEMBER} is not {len(SEVERITIES)} copies of the "
            f"{len(test_labels):,} CIFAR-10 test labels ({len(labels):,} labels, "
            f"{int(np.sum(labels[: len(expected)] != expected[: len(labels)])):,} differing): it "
            f"belongs to another test set. {fix}"
        )
    if images != len(expected):
        raise UserError(
            f"Archive {archive}: the corruption member holds {images:,} images, not "
            f"{len(SEVERITIES)} severities of {len(test_labels):,}. {fix}"
        )


def extract_corruption(
    archive: str | Path,
    expected_md5: str,
    expected_size: int | None,
    corruption: str,
    test_labels: np.ndarray,
    out_paths: Mapping[int, str | Path],
    md5_source: str | Path | None = None,
) -> None:
    """Verify the archive, read one corruption and write each severity's block as an image set.

    ``test_labels``: CIFAR-10's test labels (of the dataset's test_set.npz), which labels.npy
    must repeat once per severity. ``out_paths``: {severity: path} for severities 1-5.
    ``md5_source``: the sidecar of the generated stand-in, named if they disagree.
    """
    archive = Path(archive)
    if corruption not in CORRUPTIONS:
        raise UserError(
            f"{corruption!r} is not a CIFAR-10-C corruption. Allowed: {', '.join(CORRUPTIONS)}."
        )
    fix = archive_fix(archive, md5_source is not None)
    verify_archive(archive, expected_md5, expected_size, md5_source)
    images, labels = _read_corruption(archive, corruption, fix)
    _check_labels(archive, labels, len(images), np.asarray(test_labels), fix)
    block = len(test_labels)
    member = corruption_member(corruption)
    for severity in SEVERITIES:
        rows = slice((severity - 1) * block, severity * block)
        save_image_set(
            out_paths[severity],
            images[rows],
            labels[rows],
            expected_md5,
            ImageSet.TEST,
            member=member,
            severity=severity,
        )
    log.info("extracted %s: %d severities of %d images", member, len(SEVERITIES), block)
