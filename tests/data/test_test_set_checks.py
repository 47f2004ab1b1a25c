"""Tests for cifar_zeroshot.data.test_set_checks: are test_set.npz and train_set.npz the configured
image sets?"""

from pathlib import Path

import numpy as np
import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data import image_set, test_set_checks
from cifar_zeroshot.data.archive import CIFAR10_MD5
from cifar_zeroshot.data.image_set import ImageSet, open_image_set, save_image_set
from cifar_zeroshot.data.test_set import images_digest
from cifar_zeroshot.data.test_set_checks import (
    check_built_image_set,
    load_configured_test_set,
    read_test_set,
)

MD5 = "5df2ce170c3a35d66f24b547b0936860"


def _test_set(
    path: Path, n: int = 40, md5: str = MD5, kind: str = ImageSet.TEST
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    save_image_set(path, images, labels, md5, kind)
    return images, labels


def _cut(path: Path, n: int) -> None:
    arrays = dict(np.load(path))
    with open(path, "wb") as out:
        np.savez(out, **arrays | {"images": arrays["images"][:n], "labels": arrays["labels"][:n]})


def test_planning_accepts_no_file_and_the_built_one(tmp_path):
    path = tmp_path / "data/synthetic/test_set.npz"
    check_built_image_set(
        path, ImageSet.TEST, "synthetic", 40
    )  # not built yet: the workflow builds it
    _test_set(path)
    check_built_image_set(path, ImageSet.TEST, "synthetic", 40)


def test_planning_refuses_a_cut_or_hand_made_test_set(tmp_path):
    path = tmp_path / "test_set.npz"
    images, labels = _test_set(path)
    _cut(path, 10)
    with pytest.raises(
        UserError, match=r"holds 10 images, but the archive it was read from has 40"
    ):
        check_built_image_set(path, ImageSet.TEST, "synthetic", 40)
    with open(path, "wb") as out:
        np.savez(out, images=images, labels=labels)
    with pytest.raises(UserError, match=f"Test set {path} records no archive MD5"):
        check_built_image_set(path, ImageSet.TEST, "synthetic", 40)


def test_planning_leaves_a_synthetic_test_set_of_other_settings_to_be_rebuilt(tmp_path):
    # Built with 5 images per class, now configured with 4: Snakemake rebuilds the archive
    # (its params changed) and then the test set, so planning must not stand in the way.
    path = tmp_path / "test_set.npz"
    _test_set(path, n=50)
    check_built_image_set(path, ImageSet.TEST, "synthetic", 40)


def test_planning_refuses_a_cifar10_test_set_from_another_archive(tmp_path):
    path = tmp_path / "data/cifar10/test_set.npz"
    _test_set(path, n=40)
    with pytest.raises(UserError) as caught:
        check_built_image_set(path, ImageSet.TEST, "cifar10", 10_000)
    assert (
        f"Test set {path} was read from an archive with MD5 {MD5}, but dataset 'cifar10''s "
        f"archive has MD5 {CIFAR10_MD5}: the file is stale or comes from elsewhere. Fix: delete "
        f"{path} and rerun snakemake to rebuild it from the archive."
    ) == str(caught.value)
    _test_set(path, n=40, md5=CIFAR10_MD5)
    with pytest.raises(UserError, match=r"holds 40 images, but dataset 'cifar10' has 10000"):
        check_built_image_set(path, ImageSet.TEST, "cifar10", 10_000)


@pytest.mark.parametrize("kind", [ImageSet.TEST, ImageSet.TRAINING])
def test_planning_refuses_a_truncated_image_set_in_one_line_naming_it(tmp_path, kind):
    path = tmp_path / "data/synthetic/train_set.npz"
    _test_set(path, kind=kind)
    path.write_bytes(path.read_bytes()[:5000])  # a copy or a disk that gave up half-way
    with pytest.raises(UserError) as caught:
        check_built_image_set(path, kind, "synthetic", 40)
    assert str(caught.value) == (
        f"{kind.capitalize()} set {path} is not a readable .npz (File is not a zip file). Fix: "
        f"delete {path} and rerun snakemake to rebuild it from the archive."
    )


def test_planning_refuses_a_cut_or_foreign_cifar10_training_set(tmp_path):
    path = tmp_path / "data/cifar10/train_set.npz"
    _test_set(path, n=40, kind=ImageSet.TRAINING)
    _cut(path, 10)
    with pytest.raises(UserError, match=r"^Training set .* holds 10 images, but the archive it"):
        check_built_image_set(path, ImageSet.TRAINING, "cifar10", 10_000)
    _test_set(path, n=40, kind=ImageSet.TRAINING)
    with pytest.raises(UserError, match=rf"^Training set .* archive with MD5 {MD5}, but dataset"):
        check_built_image_set(path, ImageSet.TRAINING, "cifar10", 10_000)
    _test_set(path, n=40, md5=CIFAR10_MD5, kind=ImageSet.TRAINING)
    with pytest.raises(UserError, match=r"holds 40 images, but dataset 'cifar10' has 50000"):
        check_built_image_set(path, ImageSet.TRAINING, "cifar10", 10_000)


def test_metrics_get_the_limited_labels_and_their_digest(tmp_path):
    path = tmp_path / "test_set.npz"
    images, labels = _test_set(path)
    whole = load_configured_test_set(path, "synthetic", 40, MD5.upper(), None)
    assert whole.image_count == 40 and whole.sha256 == images_digest(images, labels)
    limited = load_configured_test_set(path, "synthetic", 40, MD5, 20)
    np.testing.assert_array_equal(limited.labels, labels[:20])
    assert limited.sha256 == images_digest(images[:20], labels[:20])
    assert limited.path == path


@pytest.mark.parametrize(
    ("n", "md5", "limit", "expected"),
    [
        # Built from an older synthetic archive, kept when a new one was made.
        (40, "f" * 32, None, r"was read from an archive with MD5 f{32}, but dataset 'synthetic'"),
        # Built under other settings and never rebuilt (e.g. --rerun-triggers mtime).
        (50, MD5, None, r"holds 50 images, but dataset 'synthetic' has 40: .*damaged or stale"),
    ],
)
def test_metrics_refuse_a_stale_test_set_naming_the_file_and_the_fix(
    tmp_path, n, md5, limit, expected
):
    path = tmp_path / "test_set.npz"
    _test_set(path, n=n, md5=md5)
    with pytest.raises(UserError, match=expected) as caught:
        load_configured_test_set(path, "synthetic", 40, MD5, limit)
    assert f"Fix: delete {path} and rerun snakemake" in str(caught.value)


def test_metrics_blame_a_cut_test_set_not_the_limit(tmp_path):
    path = tmp_path / "test_set.npz"
    _test_set(path)
    _cut(path, 10)
    with pytest.raises(UserError, match="holds 10 images, but the archive it was read from"):
        load_configured_test_set(path, "synthetic", 40, MD5, 20)


@pytest.mark.parametrize("limit", [None, 7, 40])
def test_the_images_are_digested_a_few_at_a_time_to_the_digest_of_them_all(
    tmp_path, monkeypatch, limit
):
    path = tmp_path / "test_set.npz"
    images, labels = _test_set(path)
    monkeypatch.setattr(image_set, "_CHUNK_BYTES", 3 * images[0].nbytes)  # three images
    chunks = []
    image_chunks = image_set.image_chunks

    def recording(stored, rows):
        for chunk in image_chunks(stored, rows):
            chunks.append(len(chunk))
            yield chunk

    monkeypatch.setattr(test_set_checks, "image_chunks", recording)
    configured = load_configured_test_set(path, "synthetic", 40, MD5, limit)
    count = 40 if limit is None else limit
    assert configured.sha256 == images_digest(images[:count], labels[:count])
    assert max(chunks) == 3 * images[0].nbytes and sum(chunks) == images[:count].nbytes
    assert read_test_set(path, limit).sha256 == configured.sha256


def test_a_damaged_image_past_the_limit_is_refused_as_when_loading_them_all(tmp_path):
    path = tmp_path / "test_set.npz"
    images, _ = _test_set(path)
    content = bytearray(path.read_bytes())
    where = bytes(content).find(images[30].tobytes())
    content[where] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(UserError, match=r"is not a readable \.npz .*Fix: delete"):
        load_configured_test_set(path, "synthetic", 40, MD5, 5)


def test_images_stored_column_major_get_the_digest_of_their_values(tmp_path):
    path = tmp_path / "test_set.npz"
    images, labels = _test_set(path)
    save_image_set(path, np.asfortranarray(images), labels, MD5, ImageSet.TEST)
    assert open_image_set(path, ImageSet.TEST).fortran_order
    assert read_test_set(path, 9).sha256 == images_digest(images[:9], labels[:9])
