"""The CIFAR-10 binary archive: its format, and reading its batches safely.

The binary archive (not the Python pickle one) is used so nothing is ever unpickled. Each
``.bin`` member holds records of 1 label byte followed by 3072 pixel bytes: the 32x32 red
plane, then green, then blue, each row-major. The tar is read entirely in memory after every
member has been vetted; nothing is ever extracted to disk.
"""

import logging
import tarfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.choices import CIFAR10_TEST_IMAGES
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES, NUM_CIFAR10_CLASSES
from cifar_zeroshot.data.checksums import archive_not_found

log = logging.getLogger(__name__)

# The official archive.
CIFAR10_ARCHIVE_NAME = "cifar-10-binary.tar.gz"
CIFAR10_URL = f"https://www.cs.toronto.edu/~kriz/{CIFAR10_ARCHIVE_NAME}"
CIFAR10_ARCHIVE_BYTES = 170_052_171
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
# Where the workflow expects the real archive (relative to the working directory).
CIFAR10_ARCHIVE_PATH = f"data/{CIFAR10_ARCHIVE_NAME}"

IMAGE_SIZE = 32
CHANNELS = 3
PIXEL_BYTES = IMAGE_SIZE * IMAGE_SIZE * CHANNELS  # 3072
RECORD_BYTES = 1 + PIXEL_BYTES  # 3073
# Every batch, test or training, holds as many records as the test set has images.
RECORDS_PER_BATCH = CIFAR10_TEST_IMAGES

ARCHIVE_DIR = "cifar-10-batches-bin"
META_MEMBER = f"{ARCHIVE_DIR}/batches.meta.txt"
TEST_MEMBER = f"{ARCHIVE_DIR}/test_batch.bin"
TRAIN_MEMBERS: tuple[str, ...] = tuple(f"{ARCHIVE_DIR}/data_batch_{i}.bin" for i in range(1, 6))
README_MEMBER = f"{ARCHIVE_DIR}/readme.html"
BIN_MEMBERS: frozenset[str] = frozenset((TEST_MEMBER, *TRAIN_MEMBERS))
# Every member name the real archive has; anything else is rejected before reading.
EXPECTED_MEMBERS: frozenset[str] = BIN_MEMBERS | {ARCHIVE_DIR, META_MEMBER, README_MEMBER}
MAX_TEXT_MEMBER_BYTES = 64 * 1024
MAX_BIN_MEMBER_BYTES = RECORDS_PER_BATCH * RECORD_BYTES


# --- records -----------------------------------------------------------------------------------


def encode_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """HWC images + labels -> CIFAR-10 binary records (label byte, R plane, G plane, B plane)."""
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), PIXEL_BYTES)
    records = np.concatenate([labels.reshape(-1, 1).astype(np.uint8), planes], axis=1)
    return records.tobytes()


def decode_records(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 binary records -> (images uint8 [N,32,32,3] RGB, labels uint8 [N])."""
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].copy()
    planes = records[:, 1:].reshape(-1, CHANNELS, IMAGE_SIZE, IMAGE_SIZE)
    images = np.ascontiguousarray(planes.transpose(0, 2, 3, 1))
    return images, labels


# --- vetting members ---------------------------------------------------------------------------


def _corrupt_fix(archive: Path, generated: bool) -> str:
    """How to replace a bad archive: the synthetic one is made again, the real one fetched."""
    if generated:
        return (
            f"Fix: delete {archive} and rerun snakemake: it is generated, so the workflow makes "
            "it again."
        )
    return (
        f"Fix: delete {archive} and rerun to download it again, or place the genuine "
        f"{CIFAR10_ARCHIVE_NAME} there."
    )


def member_error(archive: Path, name: str, kind: str, why: str, fix: str) -> UserError:
    """The one message for a member refused by vetting (``kind``: unsafe or unexpected)."""
    return UserError(f"Archive {archive} has an {kind} {name!r}: {why}. {fix}")


def check_member_safety(archive: Path, member: tarfile.TarInfo, fix: str) -> None:
    """Reject a member that could write outside its folder or is not plain data, in any tar."""
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise member_error(archive, name, "unsafe member", "absolute path", fix)
    if ".." in parts:
        raise member_error(archive, name, "unsafe member", "'..' path component", fix)
    if member.issym() or member.islnk():
        raise member_error(archive, name, "unsafe member", "link", fix)
    if member.isdev() or member.isfifo():
        raise member_error(archive, name, "unsafe member", "device or fifo", fix)


def _check_member(archive: Path, member: tarfile.TarInfo, fix: str) -> None:
    """Reject anything that is not one of the real archive's plain members with a sane size."""
    name = member.name

    def reject(kind: str, why: str) -> UserError:
        return member_error(archive, name, kind, why, fix)

    check_member_safety(archive, member, fix)
    if name not in EXPECTED_MEMBERS:
        raise reject("unexpected member", "not a member of the CIFAR-10 binary archive")
    if name == ARCHIVE_DIR:
        if not member.isdir():
            raise reject("unexpected member", "should be a directory")
        return
    if not member.isreg():
        raise reject("unexpected member", "should be a regular file")
    if name in BIN_MEMBERS:
        if member.size <= 0 or member.size % RECORD_BYTES or member.size > MAX_BIN_MEMBER_BYTES:
            raise reject(
                "unexpected member",
                f"size {member.size:,} bytes is not 1 to {RECORDS_PER_BATCH:,} records of "
                f"{RECORD_BYTES} bytes",
            )
    elif member.size > MAX_TEXT_MEMBER_BYTES:
        raise reject("unexpected member", f"size {member.size:,} bytes is too large")


def vetted_members(
    archive: Path,
    tar: tarfile.TarFile,
    fix: str,
    check_member: Callable[[Path, tarfile.TarInfo, str], None] = _check_member,
) -> dict[str, tarfile.TarInfo]:
    """Check every member (and that none repeats) before anything is read; map name -> member.

    ``check_member`` vets one member (default: as a member of the CIFAR-10 binary archive).
    """
    by_name: dict[str, tarfile.TarInfo] = {}
    last: str | None = None
    try:
        # Headers are read one at a time, so a cut archive can be blamed on the member it cuts.
        for member in tar:
            check_member(archive, member, fix)
            if member.name in by_name:
                raise UserError(
                    f"Archive {archive} has an unexpected member {member.name!r}: it appears "
                    f"twice. {fix}"
                )
            by_name[member.name] = member
            last = member.name
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        if last is None:
            raise
        raise UserError(
            f"Archive {archive} is truncated or corrupt in or after member {last!r} ({error}). "
            f"{fix}"
        ) from error
    return by_name


def read_member(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo, fix: str) -> bytes:
    stream = tar.extractfile(member)
    data = stream.read() if stream is not None else b""
    if len(data) != member.size:
        raise UserError(
            f"Archive {archive} is truncated: member {member.name!r} has {len(data):,} of "
            f"{member.size:,} bytes. {fix}"
        )
    return data


def _check_meta(archive: Path, data: bytes, fix: str) -> None:
    """The class list must be CIFAR-10's, in CIFAR-10's order (labels index into it)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"Archive {archive}: {META_MEMBER} is not text ({error}). {fix}") from error
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if names != CIFAR10_CLASSES:
        raise UserError(
            f"Archive {archive}: {META_MEMBER} lists classes {list(names)} but CIFAR-10's are "
            f"{list(CIFAR10_CLASSES)}. {fix}"
        )


# --- reading batches ---------------------------------------------------------------------------


def read_members(
    archive: str | Path, names: Sequence[str], *, generated: bool = False
) -> list[bytes]:
    """Vet every member of the archive and its class list, then return the named members' bytes.

    ``names`` are ``.bin`` members (e.g. TEST_MEMBER, TRAIN_MEMBERS), in the order wanted.
    ``generated``: the archive is the workflow's synthetic one, so a bad one is made again
    rather than downloaded (what the messages' fix says).
    """
    archive = Path(archive)
    fix = _corrupt_fix(archive, generated)
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            by_name = vetted_members(archive, tar, fix)
            for required in (*names, META_MEMBER):
                if required not in by_name:
                    raise UserError(f"Archive {archive} has no member {required!r}. {fix}")
            _check_meta(archive, read_member(archive, tar, by_name[META_MEMBER], fix), fix)
            return [read_member(archive, tar, by_name[name], fix) for name in names]
    except FileNotFoundError as error:
        raise archive_not_found(archive) from error
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise UserError(
            f"Archive {archive} is not a readable tar.gz ({error}); it is probably truncated "
            f"or corrupt. {fix}"
        ) from error


def read_batches(
    archive: str | Path, names: Sequence[str], *, generated: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read and decode the named ``.bin`` members, concatenated in the order given.

    Returns (images uint8 [N,32,32,3] RGB, labels uint8 [N]). ``generated``: see read_members.
    """
    if not names:
        raise ValueError("read_batches needs at least one member name")
    archive = Path(archive)
    images, labels = [], []
    members = read_members(archive, names, generated=generated)
    for name, data in zip(names, members, strict=True):
        batch_images, batch_labels = decode_records(data)
        if batch_labels.max(initial=0) >= NUM_CIFAR10_CLASSES:
            raise UserError(
                f"Archive {archive}: {name} has label {int(batch_labels.max())}, outside "
                f"0..{NUM_CIFAR10_CLASSES - 1}. {_corrupt_fix(archive, generated)}"
            )
        images.append(batch_images)
        labels.append(batch_labels)
    return np.concatenate(images), np.concatenate(labels)


def read_test_batch(
    archive: str | Path, *, generated: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The test batch: (images uint8 [N,32,32,3] RGB, labels uint8 [N])."""
    images, labels = read_batches(archive, [TEST_MEMBER], generated=generated)
    log.info("read %d test images from %s", len(labels), archive)
    return images, labels


def read_train_batches(
    archive: str | Path, *, generated: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The five training batches in order: (images uint8 [N,32,32,3] RGB, labels uint8 [N])."""
    images, labels = read_batches(archive, TRAIN_MEMBERS, generated=generated)
    log.info("read %d training images from %s", len(labels), archive)
    return images, labels
