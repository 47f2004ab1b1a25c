"""Image sets from a user's own files: a folder of PNG/JPEG images in one subfolder per CIFAR-10
class, or NumPy arrays (an .npy or .npz of images and an .npy of labels, or one .npz of both).

Each form has a check, run at planning so that a bad file is refused before any job (it opens
every image's header and every array's header, never the pixels), and a reader, which the
generic rule registered_test_set calls with the files as its inputs. The reader records the
SHA-256 of what it read: one digest over the files in sorted order, each with its name.
Images must be 32x32 RGB, as every image set of the workflow; arrays are never unpickled.
"""

import hashlib
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES, NUM_CIFAR10_CLASSES
from cifar_zeroshot.data.archive import CHANNELS, IMAGE_SIZE

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_FORMATS = ("PNG", "JPEG")
SIZE_FIX = (
    f"Fix: resize every image to {IMAGE_SIZE}x{IMAGE_SIZE} pixels (CIFAR-10's size, which "
    "every model's preprocessing here starts from), e.g. with PIL's Image.resize."
)
_SHOWN = 3  # bad files named per problem; the rest counted


def _visible(path: Path) -> bool:
    """Hidden files (.DS_Store, editors' files) are not part of a set."""
    return not path.name.startswith(".")


def folder_images(folder: Path) -> list[Path]:
    """Every file in the class subfolders of ``folder``, sorted by class folder and name."""
    return [
        file
        for sub in sorted(filter(_visible, folder.iterdir()))
        if sub.is_dir()
        for file in sorted(filter(_visible, sub.iterdir()))
    ]


def _some(paths: list[Path]) -> str:
    shown = ", ".join(map(str, paths[:_SHOWN]))
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


def size_summary(sizes: Counter[tuple[int, int]]) -> str:
    """E.g. "12 images of 640x480, 3 of 32x32" (most frequent first)."""
    parts = [f"{n} of {w}x{h}" for (w, h), n in sizes.most_common()]
    return f"{parts[0].replace(' of', ' images of', 1)}" + "".join(f", {p}" for p in parts[1:])


def _image_size(path: Path) -> tuple[int, int] | str:
    """The (width, height) from the image's header, or why it is not a PNG or JPEG image."""
    try:
        with Image.open(path) as image:
            if image.format not in _FORMATS:
                return f"is a {image.format} image, not PNG or JPEG"
            return image.size
    except (UnidentifiedImageError, OSError, ValueError) as error:
        return f"is not a readable PNG or JPEG image ({type(error).__name__})"


def check_image_folder(folder: Path) -> list[str]:
    """What is wrong with a folder set (each line names the file and the fix); [] if nothing."""
    if not folder.exists():
        return [f"{folder} does not exist. Fix: point 'path' at an existing folder."]
    if not folder.is_dir():
        return [f"{folder} is not a folder. Fix: point 'path' at a folder of class folders."]
    entries = sorted(filter(_visible, folder.iterdir()))
    classes = ", ".join(CIFAR10_CLASSES)
    problems = []
    strays = [p for p in entries if not p.is_dir()]
    if strays:
        problems.append(
            f"{folder} holds files beside its class folders: {_some(strays)}. Fix: move each "
            f"into its class folder ({classes}) or out of {folder}."
        )
    unknown = [p for p in entries if p.is_dir() and p.name not in CIFAR10_CLASSES]
    if unknown:
        problems.append(
            f"{_some(unknown)}: not a CIFAR-10 class folder. Fix: name each class folder one of "
            f"{classes} (lower case), or move the folder out of {folder}."
        )
    folders = [p for p in entries if p.is_dir() and p.name in CIFAR10_CLASSES]
    if not folders and not unknown:
        problems.append(
            f"{folder} holds no class folders. Fix: put the images in subfolders named after "
            f"their CIFAR-10 class ({classes})."
        )
    for empty in (p for p in folders if not any(filter(_visible, p.iterdir()))):
        problems.append(
            f"class folder {empty} holds no images. Fix: add PNG or JPEG images of class "
            f"{empty.name}, or delete the empty folder."
        )
    sizes: dict[tuple[int, int], list[Path]] = {}
    not_images: list[tuple[Path, str]] = []
    for sub in folders:
        for file in sorted(filter(_visible, sub.iterdir())):
            if file.is_dir():
                not_images.append((file, "is a folder"))
            elif file.suffix.lower() not in IMAGE_SUFFIXES:
                not_images.append((file, "is not a .png, .jpg or .jpeg file"))
            else:
                size = _image_size(file)
                if isinstance(size, str):
                    not_images.append((file, size))
                else:
                    sizes.setdefault(size, []).append(file)
    for file, why in not_images[:_SHOWN]:
        problems.append(
            f"{file} {why}. Fix: convert it to PNG or JPEG, or move it out of {folder}."
        )
    if len(not_images) > _SHOWN:
        problems.append(f"{len(not_images) - _SHOWN} more files in {folder} are not images.")
    problems += _size_problems(str(folder), sizes)
    return problems


def _size_problems(source: str, sizes: Mapping[tuple[int, int], list[Path]]) -> list[str]:
    wrong = {size: files for size, files in sizes.items() if size != (IMAGE_SIZE, IMAGE_SIZE)}
    if not wrong:
        return []
    counts = Counter({size: len(files) for size, files in sizes.items()})
    examples = "; ".join(f"{w}x{h}: e.g. {files[0]}" for (w, h), files in wrong.items())
    return [
        f"{source} holds {size_summary(counts)} ({examples}); every image must be "
        f"{IMAGE_SIZE}x{IMAGE_SIZE}. {SIZE_FIX}"
    ]


def sources_sha256(files: Iterable[tuple[str, Path]]) -> str:
    """One SHA-256 over (name, bytes) of each file in sorted name order: a changed, renamed,
    added or removed file changes it."""
    digest = hashlib.sha256()
    for name, path in sorted(files):
        data = Path(path).read_bytes()
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def read_image_folder(sources: Mapping[str, Path]) -> tuple[np.ndarray, np.ndarray, str]:
    """A folder set's images (``sources``: every image file; each one's class is its folder's
    name) -> images uint8 [N, 32, 32, 3] in class-folder and name order, labels, SHA-256."""
    named = sorted((f"{Path(p).parent.name}/{Path(p).name}", Path(p)) for p in sources.values())
    images, labels = [], []
    for name, path in named:
        label = Path(name).parent.name
        if label not in CIFAR10_CLASSES:
            raise UserError(f"{path}: {label!r} is not a CIFAR-10 class folder.")
        try:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
        except (UnidentifiedImageError, OSError, ValueError) as error:
            raise UserError(
                f"{path} is not a readable PNG or JPEG image ({error}). Fix: convert it to PNG "
                "or JPEG, or move it out of its folder."
            ) from error
        if pixels.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
            height, width = pixels.shape[:2]
            raise UserError(f"{path} is {width}x{height}. {SIZE_FIX}")
        images.append(pixels)
        labels.append(CIFAR10_CLASSES.index(label))
    if not images:
        raise UserError("an image folder set has no images. Fix: add PNG or JPEG images.")
    return np.stack(images), np.array(labels, dtype=np.uint8), sources_sha256(named)


# Arrays: images uint8 [N, H, W, 3] and integer labels [N].

PICKLE_PROBLEM = (
    "holds Python objects (pickled data), which this workflow never loads: unpickling can run "
    "any code. Fix: save plain arrays, images as uint8 and labels as integers, with "
    "numpy.save or numpy.savez."
)


def _header(stream: BinaryIO, source: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from an .npy header, refused clearly for pickled data or another file."""
    try:
        version = np.lib.format.read_magic(stream)
        read = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if read is None:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, _, dtype = read(stream)
    except (ValueError, OSError, EOFError) as error:
        raise UserError(
            f"{source} is not a NumPy array file ({error}); a Python pickle saved under this "
            f"name is one case. Fix: save plain arrays with numpy.save or numpy.savez."
        ) from error
    if dtype.hasobject:
        raise UserError(f"{source} {PICKLE_PROBLEM}")
    return shape, dtype


def _npz_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [name.removesuffix(".npy") for name in archive.namelist()]
    except (zipfile.BadZipFile, OSError) as error:
        raise UserError(
            f"{path} is not a readable .npz ({error}). Fix: write it with numpy.savez."
        ) from error


def _array_header(path: Path, member: str | None) -> tuple[tuple[int, ...], np.dtype]:
    """The header of an .npy file, or of ``member`` of an .npz."""
    if member is None:
        with open(path, "rb") as stream:
            return _header(stream, str(path))
    with zipfile.ZipFile(path) as archive, archive.open(f"{member}.npy") as stream:
        return _header(stream, f"array {member!r} of {path}")


def _load(path: Path, member: str | None) -> np.ndarray:
    """The array, never unpickled (its header was checked first)."""
    _array_header(path, member)
    try:
        if member is None:
            return np.load(path, allow_pickle=False)
        with np.load(path, allow_pickle=False) as npz:
            return npz[member]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(
            f"{path} could not be read ({error}). Fix: write it again with numpy.save or "
            "numpy.savez."
        ) from error


def _locate(images: Path, labels: Path | None) -> tuple[tuple[Path, str | None], ...]:
    """Where the images and the labels are: (file, .npz member or None) each."""
    wanted = {"images": images} | ({"labels": labels} if labels is not None else {})
    located = []
    for role, path in wanted.items():
        if path.suffix == ".npz":
            members = _npz_members(path)
            own = role if role in members else None
            if own is None and role == "images" and labels is not None and len(members) == 1:
                own = members[0]  # an .npz beside a labels file may hold one array of any name
            if own is None:
                raise UserError(
                    f"{path} holds no array named {role!r} (it holds {', '.join(members)}). "
                    f"Fix: save it with numpy.savez(path, images=..., labels=...)."
                )
            located.append((path, own))
        elif path.suffix == ".npy":
            located.append((path, None))
        else:
            raise UserError(f"{path} is not an .npy or .npz file. Fix: save it with numpy.")
    if labels is None:
        if images.suffix != ".npz":
            raise UserError(
                f"{images} holds images alone. Fix: give the labels too, as 'labels: <.npy>', "
                "or save both in one .npz (numpy.savez(path, images=..., labels=...))."
            )
        located.append((images, "labels"))
        if "labels" not in _npz_members(images):
            raise UserError(
                f"{images} holds no array named 'labels'. Fix: save the labels in it "
                "(numpy.savez(path, images=..., labels=...)) or give them as 'labels: <.npy>'."
            )
    return tuple(located)


def _check_shapes(
    image_shape: tuple[int, ...],
    image_dtype: np.dtype,
    label_shape: tuple[int, ...],
    label_dtype: np.dtype,
    images: str,
    labels: str,
) -> None:
    if image_dtype != np.uint8 or len(image_shape) != 4 or image_shape[3] != CHANNELS:
        raise UserError(
            f"{images} holds {image_dtype} {list(image_shape)}, not uint8 [N, H, W, 3] RGB "
            "images. Fix: save the images as a uint8 array of shape [N, 32, 32, 3]."
        )
    count, height, width = image_shape[:3]
    if not count:
        raise UserError(f"{images} holds no images. Fix: save at least one image.")
    if (height, width) != (IMAGE_SIZE, IMAGE_SIZE):
        raise UserError(f"{images} holds {count} images of {width}x{height}. {SIZE_FIX}")
    if label_dtype.kind not in "iu" or len(label_shape) != 1:
        raise UserError(
            f"{labels} holds {label_dtype} {list(label_shape)}, not integer labels [N]. Fix: "
            "save one integer label 0-9 per image, in CIFAR-10's class order."
        )
    if label_shape[0] != count:
        raise UserError(
            f"{labels} holds {label_shape[0]} labels for the {count} images of {images}. Fix: "
            "save exactly one label per image, in the images' order."
        )


def _label_problem(labels: np.ndarray, source: str) -> None:
    bad = labels[(labels < 0) | (labels >= NUM_CIFAR10_CLASSES)]
    if bad.size:
        raise UserError(
            f"{source} holds {bad.size} labels outside 0..{NUM_CIFAR10_CLASSES - 1} (e.g. "
            f"{int(bad[0])}). Fix: give each image its class index in CIFAR-10's order "
            f"({', '.join(f'{i} {c}' for i, c in enumerate(CIFAR10_CLASSES))})."
        )


def _what(path: Path, member: str | None) -> str:
    return str(path) if member is None or path.suffix != ".npz" else f"array {member!r} of {path}"


def check_image_arrays(images: Path, labels: Path | None) -> int:
    """Check an arrays set from the headers and the labels (never the pixels); UserError
    naming the file and the fix. Returns the number of images."""
    for path in (images, labels):
        if path is not None and not path.is_file():
            raise UserError(f"{path} does not exist. Fix: point the entry at an existing file.")
    (image_file, image_member), (label_file, label_member) = _locate(images, labels)
    image_shape, image_dtype = _array_header(image_file, image_member)
    label_shape, label_dtype = _array_header(label_file, label_member)
    _check_shapes(
        image_shape,
        image_dtype,
        label_shape,
        label_dtype,
        _what(image_file, image_member),
        _what(label_file, label_member),
    )
    _label_problem(_load(label_file, label_member), _what(label_file, label_member))
    return int(image_shape[0])


def read_image_arrays(sources: Mapping[str, Path]) -> tuple[np.ndarray, np.ndarray, str]:
    """An arrays set (``sources``: "images" and optionally "labels") -> images uint8
    [N, 32, 32, 3], labels uint8 [N], and the SHA-256 of the files."""
    images_path = Path(sources["images"])
    labels_path = Path(sources["labels"]) if "labels" in sources else None
    check_image_arrays(images_path, labels_path)
    (image_file, image_member), (label_file, label_member) = _locate(images_path, labels_path)
    images = np.ascontiguousarray(_load(image_file, image_member))
    labels = _load(label_file, label_member).astype(np.uint8)
    return images, labels, sources_sha256((n, Path(p)) for n, p in sources.items())
