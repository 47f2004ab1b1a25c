"""CIFAR-10 binary archive: download, verify, read safely, and a synthetic stand-in.

The binary archive (not the Python pickle one) is used so nothing is ever unpickled. Each
``.bin`` member holds records of 1 label byte followed by 3072 pixel bytes: the 32x32 red
plane, then green, then blue, each row-major.
"""

import gzip
import hashlib
import http.client
import io
import os
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cifar_zeroshot.atomic import atomic_path
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.labels import CIFAR10_CLASSES

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_ARCHIVE_BYTES = 170_052_171
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
CIFAR10_ARCHIVE_NAME = "cifar-10-binary.tar.gz"
# Where the workflow expects the real archive (relative to the working directory).
CIFAR10_ARCHIVE_PATH = "data/cifar-10-binary.tar.gz"

IMAGE_SIZE = 32
CHANNELS = 3
NUM_CLASSES = len(CIFAR10_CLASSES)
PIXEL_BYTES = IMAGE_SIZE * IMAGE_SIZE * CHANNELS  # 3072
RECORD_BYTES = 1 + PIXEL_BYTES  # 3073
RECORDS_PER_BATCH = 10_000

ARCHIVE_DIR = "cifar-10-batches-bin"
META_MEMBER = f"{ARCHIVE_DIR}/batches.meta.txt"
TEST_MEMBER = f"{ARCHIVE_DIR}/test_batch.bin"
README_MEMBER = f"{ARCHIVE_DIR}/readme.html"
BIN_MEMBERS: frozenset[str] = frozenset(
    [TEST_MEMBER] + [f"{ARCHIVE_DIR}/data_batch_{i}.bin" for i in range(1, 6)]
)
# Every member name the real archive has; anything else is rejected before reading.
EXPECTED_MEMBERS: frozenset[str] = BIN_MEMBERS | {ARCHIVE_DIR, META_MEMBER, README_MEMBER}
MAX_TEXT_MEMBER_BYTES = 64 * 1024
MAX_BIN_MEMBER_BYTES = RECORDS_PER_BATCH * RECORD_BYTES

_CHUNK = 1 << 20


# --- atomic writes -------------------------------------------------------------------------


@contextmanager
def _atomic_output(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` only on success."""
    with atomic_path(path) as temp, open(temp, "wb") as handle:
        yield handle


# --- checksums -------------------------------------------------------------------------------


def file_md5(path: str | Path) -> str:
    """Hex MD5 of a file, read in chunks so a large archive never sits in memory."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "md5").hexdigest()


def _mismatch(path: Path, expected_md5: str, expected_size: int | None) -> str | None:
    """Describe how the file differs from what is expected, or None if it matches."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"it has {size:,} bytes but {expected_size:,} were expected"
    md5 = file_md5(path)
    if md5 != expected_md5.lower():
        return f"its MD5 is {md5} but {expected_md5.lower()} was expected"
    return None


def verify_archive(path: str | Path, expected_md5: str, expected_size: int | None = None) -> None:
    """Raise UserError unless ``path`` exists with the expected size and MD5."""
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"Archive {path} not found. Fix: rerun the workflow to create/download it, or place "
            f"the right file at {path}."
        )
    problem = _mismatch(path, expected_md5, expected_size)
    if problem is not None:
        raise UserError(
            f"Archive {path} is not the expected file: {problem} (incomplete download or a "
            f"different file). Fix: delete {path} and rerun to download it again, or place the "
            f"right file at {path}."
        )


def read_md5_sidecar(path: str | Path) -> str:
    """Read the hex digest from a ``<archive>.md5`` sidecar (first token of its first line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(
            f"Cannot read checksum file {path} ({error}). Fix: delete it and the archive next to "
            "it and rerun the workflow to regenerate both."
        ) from error
    token = text.split()[0].lower() if text else ""
    if len(token) != 32 or any(c not in "0123456789abcdef" for c in token):
        raise UserError(
            f"Checksum file {path} does not hold an MD5 hex digest (found {text[:40]!r}). Fix: "
            "delete it and the archive next to it and rerun the workflow to regenerate both."
        )
    return token


# --- download --------------------------------------------------------------------------------


def _by_hand_hint(url: str, dest: Path, expected_md5: str, expected_size: int | None) -> str:
    size = f"{expected_size:,} bytes, " if expected_size is not None else ""
    return (
        f"Without network, download {dest.name} ({size}MD5 {expected_md5}) by hand from {url} "
        f"and put it at {dest}, then rerun."
    )


def download_archive(
    url: str,
    dest: str | Path,
    expected_md5: str,
    expected_size: int | None,
    timeout_s: float = 60.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> None:
    """Stream ``url`` into ``dest + ".part"``, verify it, then rename it onto ``dest``.

    Any failure removes the ``.part`` file and raises UserError saying which file to put where.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    hint = _by_hand_hint(url, dest, expected_md5, expected_size)
    report = progress if progress is not None else _StderrProgress()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(part, "wb") as out:
            received = 0
            while chunk := response.read(_CHUNK):
                received += len(chunk)
                # Stop early rather than fill the disk if the server sends something else.
                if expected_size is not None and received > expected_size:
                    raise UserError(
                        f"Download from {url} is larger than the expected {expected_size:,} "
                        f"bytes; it is not the CIFAR-10 binary archive. {hint}"
                    )
                out.write(chunk)
                report(received, expected_size)
        problem = _mismatch(part, expected_md5, expected_size)
        if problem is not None:
            raise UserError(
                f"Downloaded {url} but {problem} (interrupted or altered download). Rerun to "
                f"try again. {hint}"
            )
        os.replace(part, dest)
    except UserError:
        part.unlink(missing_ok=True)
        raise
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as error:
        part.unlink(missing_ok=True)
        reason = getattr(error, "reason", None) or error
        raise UserError(f"Could not download {url} ({reason}). {hint}") from error
    except ValueError as error:  # malformed URL
        part.unlink(missing_ok=True)
        raise UserError(f"Could not download {url} ({error}). {hint}") from error
    except BaseException:
        part.unlink(missing_ok=True)
        raise


class _StderrProgress:
    """Print a line per 10% so a long download is visibly alive in the log."""

    def __init__(self) -> None:
        self._last_decile = -1

    def __call__(self, received: int, total: int | None) -> None:
        if not total:
            return
        decile = min(received * 10 // total, 10)
        if decile > self._last_decile:
            self._last_decile = decile
            print(f"downloaded {received:,} / {total:,} bytes", file=sys.stderr, flush=True)


# --- synthetic archive -----------------------------------------------------------------------

# Distinct base colours (RGB) and stripe geometry per class so classes are separable.
_PALETTE = np.array(
    [
        [200, 40, 40],
        [40, 200, 40],
        [40, 40, 200],
        [200, 200, 40],
        [200, 40, 200],
        [40, 200, 200],
        [230, 140, 30],
        [120, 60, 20],
        [240, 240, 240],
        [30, 30, 30],
    ],
    dtype=np.float64,
)
# (dy, dx, period) per class: stripe direction and width.
_STRIPES = [
    (1, 0, 4),
    (0, 1, 4),
    (1, 1, 6),
    (1, -1, 6),
    (1, 0, 8),
    (0, 1, 8),
    (1, 2, 5),
    (2, 1, 5),
    (1, 0, 2),
    (0, 1, 2),
]


def _synthetic_image(label: int, rng: np.random.Generator) -> np.ndarray:
    """One HWC uint8 image: class colour, class stripes, random phase and noise."""
    dy, dx, period = _STRIPES[label]
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE]
    phase = int(rng.integers(0, period))
    stripes = (((yy * dy + xx * dx + phase) // max(period // 2, 1)) % 2).astype(np.float64)
    shade = 0.55 + 0.45 * stripes
    image = _PALETTE[label][None, None, :] * shade[:, :, None]
    image += rng.normal(0.0, 10.0, size=image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _encode_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """HWC images + labels -> CIFAR-10 binary records (label byte, R plane, G plane, B plane)."""
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), PIXEL_BYTES)
    records = np.concatenate([labels.reshape(-1, 1).astype(np.uint8), planes], axis=1)
    return records.tobytes()


def _tar_info(name: str, size: int, directory: bool = False) -> tarfile.TarInfo:
    """Member header with fixed metadata so the archive bytes are reproducible."""
    info = tarfile.TarInfo(name)
    info.size = 0 if directory else size
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_synthetic_archive(dest: str | Path, images_per_class: int, seed: int) -> str:
    """Write a small, byte-for-byte deterministic archive in CIFAR-10's binary format.

    Also writes ``<dest>.md5`` (one line: the hex digest). Returns the digest.
    """
    if isinstance(images_per_class, bool) or not isinstance(images_per_class, int):
        raise UserError(
            f"synthetic_images_per_class must be an integer, got {images_per_class!r}. "
            "Fix: set it to a whole number between 1 and 1000 in the config."
        )
    if not 1 <= images_per_class <= RECORDS_PER_BATCH // NUM_CLASSES:
        raise UserError(
            f"synthetic_images_per_class={images_per_class} is out of range. Fix: set it between "
            f"1 and {RECORDS_PER_BATCH // NUM_CLASSES} in the config."
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(
            f"synthetic_seed must be a non-negative integer, got {seed!r}. Fix: set it to e.g. 0 "
            "in the config."
        )
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(NUM_CLASSES, dtype=np.uint8), images_per_class))
    images = np.stack([_synthetic_image(int(label), rng) for label in labels])
    members = [
        (META_MEMBER, ("\n".join(CIFAR10_CLASSES) + "\n\n").encode("ascii")),
        (TEST_MEMBER, _encode_records(images, labels)),
    ]

    dest = Path(dest)
    # filename="" keeps the temp name out of the gzip header; mtime=0 fixes the timestamp.
    with (
        _atomic_output(dest) as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        tar.addfile(_tar_info(ARCHIVE_DIR, 0, directory=True))
        for name, payload in members:
            tar.addfile(_tar_info(name, len(payload)), io.BytesIO(payload))
    md5 = file_md5(dest)
    with _atomic_output(dest.with_name(dest.name + ".md5")) as sidecar:
        sidecar.write(f"{md5}\n".encode("ascii"))
    return md5


# --- safe reading ----------------------------------------------------------------------------


def _check_member(archive: Path, member: tarfile.TarInfo) -> None:
    """Reject anything that is not one of the real archive's plain members with a sane size."""
    name = member.name
    fix = (
        f"Fix: delete {archive} and rerun to download it again, or place the genuine "
        f"{CIFAR10_ARCHIVE_NAME} there."
    )

    def reject(kind: str, why: str) -> UserError:
        return UserError(f"Archive {archive} has an {kind} {name!r}: {why}. {fix}")

    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise reject("unsafe member", "absolute path")
    if ".." in parts:
        raise reject("unsafe member", "'..' path component")
    if member.issym() or member.islnk():
        raise reject("unsafe member", "link")
    if member.isdev() or member.isfifo():
        raise reject("unsafe member", "device or fifo")
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


def _read_member(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    stream = tar.extractfile(member)
    data = stream.read() if stream is not None else b""
    if len(data) != member.size:
        raise UserError(
            f"Archive {archive} is truncated: member {member.name!r} has {len(data):,} of "
            f"{member.size:,} bytes. Fix: delete {archive} and rerun to download it again."
        )
    return data


def _parse_meta(archive: Path, data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"Archive {archive}: {META_MEMBER} is not text ({error}). Fix: delete {archive} and "
            "rerun to download it again."
        ) from error
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if names != CIFAR10_CLASSES:
        raise UserError(
            f"Archive {archive}: {META_MEMBER} lists classes {list(names)} but CIFAR-10's are "
            f"{list(CIFAR10_CLASSES)}. Fix: delete {archive} and rerun to download the genuine "
            "archive."
        )


def decode_records(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 binary records -> (images uint8 [N,32,32,3] RGB, labels uint8 [N])."""
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].copy()
    planes = records[:, 1:].reshape(-1, CHANNELS, IMAGE_SIZE, IMAGE_SIZE)
    images = np.ascontiguousarray(planes.transpose(0, 2, 3, 1))
    return images, labels


def read_test_set_from_archive(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the test batch from a CIFAR-10 binary tar.gz entirely in memory.

    Every member is vetted before any data is read; nothing is extracted to disk.
    """
    archive = Path(path)
    corrupt = (
        f"Fix: delete {archive} and rerun to download it again, or place the genuine "
        f"{CIFAR10_ARCHIVE_NAME} there."
    )
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = tar.getmembers()
            seen: set[str] = set()
            for member in members:
                _check_member(archive, member)
                if member.name in seen:
                    raise UserError(
                        f"Archive {archive} has an unexpected member {member.name!r}: it appears "
                        f"twice. {corrupt}"
                    )
                seen.add(member.name)
            by_name = {member.name: member for member in members}
            for required in (TEST_MEMBER, META_MEMBER):
                if required not in by_name:
                    raise UserError(f"Archive {archive} has no member {required!r}. {corrupt}")
            _parse_meta(archive, _read_member(archive, tar, by_name[META_MEMBER]))
            data = _read_member(archive, tar, by_name[TEST_MEMBER])
    except FileNotFoundError as error:
        raise UserError(
            f"Archive {archive} not found. Fix: rerun the workflow to create/download it, or "
            f"place the right file at {archive}."
        ) from error
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise UserError(
            f"Archive {archive} is not a readable tar.gz ({error}); it is probably truncated "
            f"or corrupt. {corrupt}"
        ) from error
    images, labels = decode_records(data)
    if labels.max(initial=0) >= NUM_CLASSES:
        raise UserError(
            f"Archive {archive}: {TEST_MEMBER} has label {int(labels.max())}, outside 0..9. "
            f"{corrupt}"
        )
    return images, labels


# --- test set npz ----------------------------------------------------------------------------


def _validate_arrays(images: np.ndarray, labels: np.ndarray) -> str | None:
    """Describe what is wrong with the arrays, or None if they form a valid test set."""
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        return f"dtypes are images {images.dtype}, labels {labels.dtype} (both must be uint8)"
    if images.ndim != 4 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, CHANNELS):
        return f"images have shape {images.shape}, expected (N, 32, 32, 3)"
    if labels.shape != (images.shape[0],) or images.shape[0] == 0:
        return f"labels have shape {labels.shape} for {images.shape[0]} images (need N > 0)"
    if labels.max() >= NUM_CLASSES:
        return f"label {int(labels.max())} is outside 0..9"
    return None


def save_test_set(path: str | Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Write images/labels to an .npz atomically (after validating them)."""
    problem = _validate_arrays(np.asarray(images), np.asarray(labels))
    if problem is not None:
        raise UserError(
            f"Refusing to write test set {path}: {problem}. Fix: rebuild it from the archive "
            "with the workflow."
        )
    with _atomic_output(path) as out:
        np.savez(out, images=images, labels=labels)


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
    return images, labels


def prepare_test_set(
    archive: str | Path, expected_md5: str, expected_size: int | None, out_path: str | Path
) -> None:
    """Verify the archive's checksum, read its test batch, and save it as an .npz."""
    verify_archive(archive, expected_md5, expected_size)
    images, labels = read_test_set_from_archive(archive)
    save_test_set(out_path, images, labels)
