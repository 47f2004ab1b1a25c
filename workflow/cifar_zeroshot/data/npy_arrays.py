"""Reading the shifted test sets' NumPy ``.npy`` files (CIFAR-10.1's pair, CIFAR-10-C's members).

The header is read and checked before any data: images must be uint8 [N, 32, 32, 3] in C order,
labels a 1-D integer array. Object arrays are never unpickled, and the data must be exactly as
long as the header says, so a cut file is refused rather than padded or reshaped.
"""

import io
from typing import BinaryIO

import numpy as np

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.data.archive import CHANNELS, IMAGE_SIZE

IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, CHANNELS)
IMAGES_HEADER = "uint8 [N, 32, 32, 3]"
LABELS_HEADER = "integer [N]"


def _header(stream: BinaryIO, source: str, fix: str) -> tuple[tuple[int, ...], np.dtype, bool]:
    """(shape, dtype, fortran_order) from an .npy header; UserError if it is not one."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, OSError, EOFError) as error:
        raise UserError(f"{source} is not a NumPy .npy file ({error}). {fix}") from error
    # Object arrays would need unpickling: refused like any other wrong dtype by the callers.
    return shape, dtype, fortran


def _bytes_left(stream: BinaryIO) -> int:
    """How many bytes lie between the stream's position and its end (the position is kept)."""
    here = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(here)
    return end - here


def _payload(
    stream: BinaryIO, source: str, shape: tuple[int, ...], dtype: np.dtype, fix: str
) -> np.ndarray:
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    # The header's size is compared with the bytes there before any buffer is asked for it, so
    # a header claiming terabytes is refused as altered rather than failing on memory.
    there = _bytes_left(stream)
    if there != expected:
        raise UserError(
            f"{source} holds {there:,} data bytes but its header says {shape} {dtype} "
            f"({expected:,} bytes): the file is cut or altered. {fix}"
        )
    data = stream.read(expected + 1)
    if len(data) != expected:
        raise UserError(
            f"{source} holds {len(data):,} data bytes but its header says {shape} {dtype} "
            f"({expected:,} bytes): the file is cut or altered. {fix}"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def read_npy_images(stream: BinaryIO, source: str, fix: str) -> np.ndarray:
    """An .npy image array: uint8 [N, 32, 32, 3] (N > 0), C order, checked from its header."""
    shape, dtype, fortran = _header(stream, source, fix)
    if dtype != np.uint8 or len(shape) != 4 or shape[1:] != IMAGE_SHAPE or not shape[0] or fortran:
        order = ", Fortran order" if fortran else ""
        raise UserError(
            f"{source} is not a {IMAGES_HEADER} image array: its header says {dtype} "
            f"{list(shape)}{order}. {fix}"
        )
    return _payload(stream, source, shape, dtype, fix)


def read_npy_labels(stream: BinaryIO, source: str, fix: str) -> np.ndarray:
    """An .npy label array: 1-D integers, each a CIFAR-10 class index; returned as uint8."""
    shape, dtype, _ = _header(stream, source, fix)
    if dtype.kind not in "iu" or len(shape) != 1 or not shape[0]:
        raise UserError(
            f"{source} is not an {LABELS_HEADER} label array: its header says {dtype} "
            f"{list(shape)}. {fix}"
        )
    labels = _payload(stream, source, shape, dtype, fix)
    if labels.min() < 0 or labels.max() >= NUM_CIFAR10_CLASSES:
        bad = int(labels.min() if labels.min() < 0 else labels.max())
        raise UserError(
            f"{source} has label {bad}, outside CIFAR-10's 0..{NUM_CIFAR10_CLASSES - 1}. {fix}"
        )
    return labels.astype(np.uint8)
