"""Image sets from a user's files: the readers, and every refusal with its file and fix."""

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.data.user_image_sets import (
    check_image_arrays,
    check_image_folder,
    folder_images,
    read_image_arrays,
    read_image_folder,
)


def _png(path: Path, size=(32, 32), colour=(10, 20, 30), fmt="PNG") -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8) + np.array(colour, dtype=np.uint8)
    Image.fromarray(pixels).save(path, format=fmt)
    return pixels


def _folder(root: Path) -> Path:
    for number, name in enumerate(("cat", "airplane", "truck")):
        _png(root / name / "b.png", colour=(number, 1, 2))
        _png(root / name / "a.png", colour=(number, 3, 4))
    return root


def _sources(folder: Path) -> dict[str, Path]:
    return {f"image{n}": path for n, path in enumerate(folder_images(folder))}


def test_a_folder_is_read_in_class_folder_and_name_order_with_its_classes(tmp_path):
    folder = _folder(tmp_path / "photos")
    assert check_image_folder(folder) == []
    images, labels, digest = read_image_folder(_sources(folder))
    assert images.shape == (6, 32, 32, 3) and images.dtype == np.uint8
    index = CIFAR10_CLASSES.index
    assert list(labels) == [index("airplane")] * 2 + [index("cat")] * 2 + [index("truck")] * 2
    assert tuple(images[0, 0, 0]) == (1, 3, 4) and tuple(images[1, 0, 0]) == (1, 1, 2)
    assert len(digest) == 64


def test_the_folder_digest_follows_every_file_and_its_class(tmp_path):
    folder = _folder(tmp_path / "photos")
    digest = read_image_folder(_sources(folder))[2]
    assert read_image_folder(dict(reversed(_sources(folder).items())))[2] == digest
    _png(folder / "cat" / "a.png", colour=(9, 9, 9))
    changed = read_image_folder(_sources(folder))[2]
    assert changed != digest
    (folder / "cat" / "a.png").rename(folder / "truck" / "c.png")
    assert read_image_folder(_sources(folder))[2] not in (digest, changed)


def test_grey_and_jpeg_images_become_rgb(tmp_path):
    folder = tmp_path / "photos"
    _png(folder / "dog" / "x.jpg", fmt="JPEG")
    (folder / "frog").mkdir()
    Image.fromarray(np.full((32, 32), 200, dtype=np.uint8)).save(folder / "frog" / "g.png")
    assert check_image_folder(folder) == []
    images, labels, _ = read_image_folder(_sources(folder))
    assert images.shape == (2, 32, 32, 3) and tuple(images[1, 0, 0]) == (200, 200, 200)
    assert list(labels) == [CIFAR10_CLASSES.index("dog"), CIFAR10_CLASSES.index("frog")]


def test_a_missing_folder_is_refused(tmp_path):
    (problem,) = check_image_folder(tmp_path / "nowhere")
    assert f"{tmp_path / 'nowhere'} does not exist. Fix: point 'path'" in problem


def test_a_folder_that_is_not_a_class_is_refused(tmp_path):
    folder = _folder(tmp_path / "photos")
    _png(folder / "kitten" / "a.png")
    (problem,) = check_image_folder(folder)
    assert f"{folder / 'kitten'}: not a CIFAR-10 class folder" in problem
    assert "Fix: name each class folder one of airplane, automobile" in problem


def test_an_empty_class_folder_is_refused(tmp_path):
    folder = _folder(tmp_path / "photos")
    (folder / "ship").mkdir()
    (problem,) = check_image_folder(folder)
    assert f"class folder {folder / 'ship'} holds no images. Fix: add PNG or JPEG" in problem


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("notes.png", b"not an image at all", "is not a readable PNG or JPEG image"),
        ("notes.txt", b"hello", "is not a .png, .jpg or .jpeg file"),
    ],
)
def test_a_file_that_is_not_an_image_is_refused(tmp_path, name, content, why):
    folder = _folder(tmp_path / "photos")
    (folder / "cat" / name).write_bytes(content)
    (problem,) = check_image_folder(folder)
    assert f"{folder / 'cat' / name} {why}" in problem and "Fix: convert it to PNG" in problem
    if name.endswith(".png"):  # the reader refuses it too, should the check be skipped
        with pytest.raises(UserError, match=r"notes\.png is not a readable PNG or JPEG"):
            read_image_folder(_sources(folder))


def test_a_gif_named_png_is_refused(tmp_path):
    folder = _folder(tmp_path / "photos")
    _png(folder / "cat" / "anim.png", fmt="GIF")
    (problem,) = check_image_folder(folder)
    assert "anim.png is a GIF image, not PNG or JPEG" in problem


def test_images_of_other_sizes_are_refused_with_the_sizes_found(tmp_path):
    folder = _folder(tmp_path / "photos")
    for number in range(12):
        _png(folder / "dog" / f"{number}.png", size=(640, 480))
    (problem,) = check_image_folder(folder)
    assert "holds 12 images of 640x480, 6 of 32x32" in problem
    assert f"640x480: e.g. {folder / 'dog' / '0.png'}" in problem
    assert "Fix: resize every image to 32x32" in problem
    with pytest.raises(UserError, match=r"is 640x480\. Fix: resize every image to 32x32"):
        read_image_folder(_sources(folder))


def test_hidden_files_are_not_part_of_a_set(tmp_path):
    folder = _folder(tmp_path / "photos")
    (folder / ".DS_Store").write_bytes(b"x")
    (folder / "cat" / ".DS_Store").write_bytes(b"x")
    assert check_image_folder(folder) == [] and len(folder_images(folder)) == 6


# Arrays.


def _arrays(rng, count=12, size=32):
    images = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    return images, np.arange(count) % 10


def test_an_npz_with_images_and_labels_is_read_with_the_digest_of_its_file(tmp_path):
    images, labels = _arrays(np.random.default_rng(0))
    np.savez(tmp_path / "s.npz", images=images, labels=labels)
    assert check_image_arrays(tmp_path / "s.npz", None) == 12
    read, read_labels, digest = read_image_arrays({"images": tmp_path / "s.npz"})
    assert np.array_equal(read, images) and np.array_equal(read_labels, labels)
    assert read_labels.dtype == np.uint8
    data = (tmp_path / "s.npz").read_bytes()
    expected = hashlib.sha256(b"images\0" + len(data).to_bytes(8, "little") + data)
    assert digest == expected.hexdigest()


def test_an_npy_pair_is_read(tmp_path):
    images, labels = _arrays(np.random.default_rng(1))
    np.save(tmp_path / "i.npy", images)
    np.save(tmp_path / "l.npy", labels.astype(np.int64))
    assert check_image_arrays(tmp_path / "i.npy", tmp_path / "l.npy") == 12
    read, read_labels, _ = read_image_arrays(
        {"images": tmp_path / "i.npy", "labels": tmp_path / "l.npy"}
    )
    assert np.array_equal(read, images) and np.array_equal(read_labels, labels)


def test_a_missing_array_file_is_refused(tmp_path):
    with pytest.raises(UserError, match=r"nowhere\.npz does not exist\. Fix: point"):
        check_image_arrays(tmp_path / "nowhere.npz", None)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (np.array([0, 1, 10] * 4), r"l\.npy holds 4 labels outside 0\.\.9 \(e\.g\. 10\)\. Fix:"),
        (np.array([0, -1] * 6), r"l\.npy holds 6 labels outside 0\.\.9 \(e\.g\. -1\)"),
        (np.arange(11) % 10, r"l\.npy holds 11 labels for the 12 images of .*i\.npy\. Fix:"),
        (np.zeros(12, dtype=np.float32), r"l\.npy holds float32 \[12\], not integer labels"),
    ],
)
def test_bad_labels_are_refused(tmp_path, labels, expected):
    np.save(tmp_path / "i.npy", _arrays(np.random.default_rng(2))[0])
    np.save(tmp_path / "l.npy", labels)
    with pytest.raises(UserError, match=expected):
        check_image_arrays(tmp_path / "i.npy", tmp_path / "l.npy")


def test_an_object_array_is_refused_never_unpickled(tmp_path):
    np.save(tmp_path / "i.npy", np.array([{"x": 1}] * 3, dtype=object), allow_pickle=True)
    np.save(tmp_path / "l.npy", np.zeros(3, dtype=np.int64))
    with pytest.raises(UserError, match=r"i\.npy holds Python objects \(pickled data\).*Fix:"):
        check_image_arrays(tmp_path / "i.npy", tmp_path / "l.npy")
    images, _ = _arrays(np.random.default_rng(3), 3)
    np.savez(tmp_path / "s.npz", images=images, labels=np.array([1, "a", None], dtype=object))
    with pytest.raises(UserError, match=r"array 'labels' of .*s\.npz holds Python objects"):
        check_image_arrays(tmp_path / "s.npz", None)


def test_a_pickle_named_npy_is_refused(tmp_path):
    (tmp_path / "i.npy").write_bytes(pickle.dumps([1, 2, 3]))
    np.save(tmp_path / "l.npy", np.zeros(3, dtype=np.int64))
    with pytest.raises(UserError, match=r"i\.npy is not a NumPy array file .*a Python pickle"):
        check_image_arrays(tmp_path / "i.npy", tmp_path / "l.npy")


def test_arrays_of_another_size_are_refused_with_the_size(tmp_path):
    images, labels = _arrays(np.random.default_rng(4), 5, size=64)
    np.savez(tmp_path / "s.npz", images=images, labels=labels)
    with pytest.raises(UserError, match=r"holds 5 images of 64x64\. Fix: resize every image"):
        check_image_arrays(tmp_path / "s.npz", None)


def test_an_npz_without_labels_and_an_npy_alone_are_refused(tmp_path):
    images, _ = _arrays(np.random.default_rng(5))
    np.savez(tmp_path / "s.npz", images=images)
    with pytest.raises(UserError, match=r"s\.npz holds no array named 'labels'\. Fix:"):
        check_image_arrays(tmp_path / "s.npz", None)
    np.save(tmp_path / "i.npy", images)
    with pytest.raises(UserError, match=r"i\.npy holds images alone\. Fix: give the labels"):
        check_image_arrays(tmp_path / "i.npy", None)
