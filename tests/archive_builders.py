"""Archives for the data tests: built by hand (independent of the package's writer), or the
package's synthetic one."""

import gzip
import io
import tarfile
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.data.synthetic import write_synthetic_archive

DIR = "cifar-10-batches-bin"
META_TEXT = ("\n".join(CIFAR10_CLASSES) + "\n\n").encode()
Member = tuple[tarfile.TarInfo, bytes | None]


def tar_file(name: str, payload: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    return info, payload


def tar_special(name: str, kind: bytes, linkname: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def _tar_bytes(members: list[Member]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, payload in members:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return raw.getvalue()


def build_tar(path: Path, members: list[Member]) -> Path:
    path.write_bytes(gzip.compress(_tar_bytes(members)))
    return path


def build_cut_tar(path: Path, members: list[Member], cut_member: str) -> Path:
    """A tar.gz whose tar ends halfway through ``cut_member``'s data, as a download cut short
    and then compressed whole (so only the tar, not the gzip stream, is cut)."""
    data = _tar_bytes(members)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.getmember(cut_member)
    path.write_bytes(gzip.compress(data[: member.offset_data + member.size // 2]))
    return path


def records(labels: list[int], planes: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> bytes:
    """CIFAR-10 records written the documented way: label byte, then R, G, B planes row-major."""
    out = bytearray()
    for label, (red, green, blue) in zip(labels, planes, strict=True):
        out.append(label)
        for plane in (red, green, blue):
            out += plane.astype(np.uint8).tobytes(order="C")
    return bytes(out)


def one_record(label: int = 0, value: int = 0) -> bytes:
    plane = np.full((32, 32), value, np.uint8)
    return records([label], [(plane, plane, plane)])


def valid_members(test_bytes: bytes) -> list[Member]:
    """The smallest archive the reader accepts: the folder, the class list, the test batch."""
    return [
        tar_special(DIR, tarfile.DIRTYPE),
        tar_file(f"{DIR}/batches.meta.txt", META_TEXT),
        tar_file(f"{DIR}/test_batch.bin", test_bytes),
    ]


def train_members(payloads: list[bytes]) -> list[Member]:
    """The training batches data_batch_1.bin .. data_batch_<n>.bin holding these payloads."""
    return [tar_file(f"{DIR}/data_batch_{i}.bin", data) for i, data in enumerate(payloads, 1)]


def synthetic_archive(folder: Path) -> tuple[Path, str]:
    """The package's synthetic archive (20 images per class, seed 3) and its MD5."""
    path = folder / "cifar-10-binary.tar.gz"
    return path, write_synthetic_archive(path, images_per_class=20, seed=3)
