"""The test set: building, saving and loading test_set.npz (cifar_zeroshot.data.image_set, kind
ImageSet.TEST), and what a run scores of it (cifar_zeroshot.data.test_set)."""

import logging
from pathlib import Path

import numpy as np
import pytest
from archive_builders import build_tar, one_record, tar_file, valid_members

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import read_test_batch
from cifar_zeroshot.data.checksums import write_md5_sidecar
from cifar_zeroshot.data.image_set import (
    ImageSet,
    load_image_set,
    prepare_image_set,
    read_image_origin,
    save_image_set,
)
from cifar_zeroshot.data.test_set import first_images, images_digest

MD5 = "0123456789abcdef" * 2


def test_prepare_test_set_round_trip(tmp_path, synthetic, caplog):
    path, md5 = synthetic
    out = tmp_path / "synthetic" / "test_set.npz"
    with caplog.at_level(logging.INFO, logger="cifar_zeroshot"):
        prepare_image_set(path, md5, None, out, ImageSet.TEST)
    images, labels = load_image_set(out, ImageSet.TEST)
    expected_images, expected_labels = read_test_batch(path)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    origin = read_image_origin(out, ImageSet.TEST)  # which archive it came from
    assert (origin.images, origin.archive_md5, origin.archive_images) == (200, md5, 200)
    assert [p.name for p in out.parent.iterdir()] == ["test_set.npz"]
    # The job's log says what was checked, read and written.
    assert f"verified {path}" in caplog.text
    assert f"read 200 test images from {path}" in caplog.text
    assert f"wrote 200 test images to {out}" in caplog.text


def test_prepare_test_set_checks_md5_first(tmp_path, synthetic):
    path, _ = synthetic
    with pytest.raises(UserError, match="MD5"):
        prepare_image_set(path, "f" * 32, None, tmp_path / "out.npz", ImageSet.TEST)
    assert list(tmp_path.iterdir()) == []


def test_prepare_test_set_rejects_truncated_archive(tmp_path, synthetic):
    path, md5 = synthetic
    cut = tmp_path / "cut.tar.gz"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="bytes but"):
        prepare_image_set(cut, md5, len(data), tmp_path / "out.npz", ImageSet.TEST)
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize("generated", [True, False], ids=["synthetic", "downloaded"])
def test_a_bad_archive_is_made_again_when_generated_and_downloaded_again_otherwise(
    tmp_path, generated
):
    members = [*valid_members(one_record()), tar_file("../evil", b"x")]
    archive = build_tar(tmp_path / "cifar-10-binary.tar.gz", members)
    md5 = write_md5_sidecar(archive)
    # Only the synthetic archive has a sidecar that its expected MD5 is read from.
    sidecar = tmp_path / "cifar-10-binary.tar.gz.md5" if generated else None
    with pytest.raises(UserError) as caught:
        prepare_image_set(
            archive, md5, None, tmp_path / "out.npz", ImageSet.TEST, md5_source=sidecar
        )
    message = str(caught.value)
    assert f"Archive {archive} has an unsafe member '../evil'" in message
    if generated:
        assert message.endswith(
            f"Fix: delete {archive} and rerun snakemake: it is generated, so the workflow makes "
            "it again."
        )
    else:
        assert "rerun to download it again, or place the genuine" in message
    assert not (tmp_path / "out.npz").exists()


def test_save_test_set_rejects_bad_arrays(tmp_path):
    with pytest.raises(UserError, match="uint8"):
        save_image_set(
            tmp_path / "t.npz", np.zeros((2, 32, 32, 3)), np.zeros(2, np.uint8), MD5, ImageSet.TEST
        )
    assert list(tmp_path.iterdir()) == []


def _write_npz(path: Path, **arrays: np.ndarray) -> Path:
    with open(path, "wb") as out:
        np.savez(out, **arrays)
    return path


def _write_npy(path: Path, array: np.ndarray) -> Path:
    with open(path, "wb") as out:
        np.save(out, array)
    return path


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: _write_npz(p, x=np.zeros(3), y=np.ones(3)), "lacks arrays"),
        (
            lambda p: _write_npz(
                p, images=np.zeros((2, 32, 32, 3), np.float32), labels=np.zeros(2, np.uint8)
            ),
            "uint8",
        ),
        (
            lambda p: _write_npz(
                p, images=np.zeros((2, 3, 32, 32), np.uint8), labels=np.zeros(2, np.uint8)
            ),
            r"expected \(N, 32, 32, 3\)",
        ),
        (
            lambda p: _write_npz(
                p, images=np.zeros((2, 32, 32, 3), np.uint8), labels=np.zeros(3, np.uint8)
            ),
            "labels have shape",
        ),
        (
            lambda p: _write_npz(
                p, images=np.zeros((1, 32, 32, 3), np.uint8), labels=np.array([12], np.uint8)
            ),
            "outside 0..9",
        ),
        (
            lambda p: _write_npz(
                p, images=np.zeros((1, 32, 32, 3), np.uint8), labels=np.array([{}], object)
            ),
            "not a readable",
        ),
        (lambda p: _write_npy(p, np.zeros(3)), "single array"),
        (lambda p: p.write_bytes(b"plain text"), "not a readable"),
    ],
)
def test_load_test_set_rejects_foreign_files(tmp_path, make, match):
    path = tmp_path / "test_set.npz"
    make(path)
    with pytest.raises(UserError, match=match) as caught:
        load_image_set(path, ImageSet.TEST)
    assert str(path) in str(caught.value) and "Fix:" in str(caught.value)


def test_load_test_set_missing(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_image_set(tmp_path / "absent.npz", ImageSet.TEST)


def _saved(path: Path, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    save_image_set(path, images, labels, MD5.upper(), ImageSet.TEST)
    return images, labels


def test_a_test_set_cut_after_it_was_built_is_refused(tmp_path):
    path = tmp_path / "test_set.npz"
    _saved(path)
    arrays = dict(np.load(path))
    _write_npz(path, **arrays | {"images": arrays["images"][:10], "labels": arrays["labels"][:10]})
    message = (
        f"Test set {path} holds 10 images, but the archive it was read from has 40: the file "
        f"was cut or altered. Fix: delete {path} and rerun snakemake to rebuild it"
    )
    for read in (load_image_set, read_image_origin):
        with pytest.raises(UserError) as caught:
            read(path, ImageSet.TEST)
        assert message in str(caught.value)


def test_a_test_set_without_its_origin_loads_but_has_no_origin(tmp_path):
    path = tmp_path / "test_set.npz"
    images, labels = _saved(path)
    _write_npz(path, images=images, labels=labels)  # as a hand-made file or an older workflow
    np.testing.assert_array_equal(load_image_set(path, ImageSet.TEST)[1], labels)
    with pytest.raises(UserError, match=r"records no archive MD5: .*older version.*Fix: delete"):
        read_image_origin(path, ImageSet.TEST)


def test_an_origin_of_another_form_is_refused(tmp_path):
    path = tmp_path / "test_set.npz"
    images, labels = _saved(path)
    _write_npz(path, images=images, labels=labels, archive_md5=np.array([1, 2]), archive_images=40)
    with pytest.raises(UserError, match="records its archive in another form"):
        load_image_set(path, ImageSet.TEST)


def test_first_images_applies_the_limit_and_blames_the_file_as_well_as_the_limit(tmp_path):
    images, labels = _saved(tmp_path / "t.npz", n=20)
    assert first_images(images, labels, None, "t.npz")[0] is images
    few_images, few_labels = first_images(images, labels, 5, "t.npz")
    np.testing.assert_array_equal(few_images, images[:5])
    np.testing.assert_array_equal(few_labels, labels[:5])
    with pytest.raises(UserError) as caught:
        first_images(images, labels, 21, "t.npz")
    assert "limit 21 is more than the 20 images in t.npz" in str(caught.value)
    assert "t.npz is damaged or stale: delete it and rerun snakemake" in str(caught.value)


def test_images_digest_covers_every_pixel_label_and_the_shape():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(6, dtype=np.uint8)
    digest = images_digest(images, labels)
    assert len(digest) == 64 and digest == images_digest(images.copy(), labels.copy())
    pixel = images.copy()
    pixel[5, 31, 31, 2] ^= 1
    label = labels.copy()
    label[0] = 9
    others = {
        images_digest(pixel, labels),
        images_digest(images, label),
        images_digest(images[:5], labels[:5]),
        # The same bytes split differently between images and labels.
        images_digest(images.reshape(-1)[:-6], np.concatenate([images.reshape(-1)[-6:], labels])),
    }
    assert digest not in others and len(others) == 4
