"""The training set (cifar_zeroshot.data.image_set, kind ImageSet.TRAINING): building and loading
train_set.npz from the archive's five training batches, and refusing an archive whose training
batches are missing or broken."""

import logging
from pathlib import Path

import numpy as np
import pytest
from archive_builders import (
    build_cut_tar,
    build_tar,
    one_record,
    synthetic_archive,
    train_members,
    valid_members,
)

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.file_digests import file_md5
from cifar_zeroshot.data.archive import read_test_batch, read_train_batches
from cifar_zeroshot.data.image_set import (
    ImageSet,
    load_image_set,
    prepare_image_set,
    read_image_origin,
)
from cifar_zeroshot.data.synthetic import write_synthetic_archive

BATCH = "cifar-10-batches-bin/data_batch_{}.bin"


@pytest.fixture(scope="module")
def with_training(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("synthetic") / "cifar-10-binary.tar.gz"
    return path, write_synthetic_archive(path, 2, seed=5, train_images_per_class=7)


def test_prepare_train_set_round_trip(tmp_path, with_training, caplog):
    path, md5 = with_training
    out = tmp_path / "synthetic" / "train_set.npz"
    with caplog.at_level(logging.INFO, logger="cifar_zeroshot"):
        prepare_image_set(path, md5, path.stat().st_size, out, ImageSet.TRAINING)
    images, labels = load_image_set(out, ImageSet.TRAINING)
    expected_images, expected_labels = read_train_batches(path)
    assert images.shape == (70, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.uint8 and np.bincount(labels).tolist() == [7] * 10
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    origin = read_image_origin(out, ImageSet.TRAINING)
    assert (origin.images, origin.archive_md5, origin.archive_images) == (70, md5, 70)
    assert [p.name for p in out.parent.iterdir()] == ["train_set.npz"]
    assert f"verified {path}" in caplog.text
    assert f"read 70 training images from {path}" in caplog.text
    assert f"wrote 70 training images to {out}" in caplog.text


def test_the_training_set_is_not_the_test_set(tmp_path, with_training):
    path, md5 = with_training
    prepare_image_set(path, md5, None, tmp_path / "train_set.npz", ImageSet.TRAINING)
    prepare_image_set(path, md5, None, tmp_path / "test_set.npz", ImageSet.TEST)
    train_images, _ = load_image_set(tmp_path / "train_set.npz", ImageSet.TRAINING)
    test_images, test_labels = load_image_set(tmp_path / "test_set.npz", ImageSet.TEST)
    assert len(test_labels) == 20
    flat_train = {image.tobytes() for image in train_images}
    assert not flat_train & {image.tobytes() for image in test_images}
    np.testing.assert_array_equal(test_images, read_test_batch(path)[0])


def test_prepare_train_set_checks_md5_first(tmp_path, with_training):
    path, _ = with_training
    with pytest.raises(UserError, match="MD5"):
        prepare_image_set(path, "f" * 32, None, tmp_path / "out.npz", ImageSet.TRAINING)
    assert list(tmp_path.iterdir()) == []


def test_an_archive_without_training_batches_is_refused(tmp_path):
    path, md5 = synthetic_archive(tmp_path)
    with pytest.raises(UserError) as caught:
        prepare_image_set(path, md5, None, tmp_path / "out" / "train_set.npz", ImageSet.TRAINING)
    message = str(caught.value)
    assert f"has no member '{BATCH.format(1)}'" in message and "Fix: delete" in message
    assert not (tmp_path / "out").exists()


def _train_payloads(records_each: int = 2) -> list[bytes]:
    return [one_record(label=i, value=i) * records_each for i in range(5)]


def _refusal(tmp_path: Path, archive: Path) -> str:
    """prepare_image_set's message for this archive (its MD5 taken as the expected one)."""
    out = tmp_path / "out" / "train_set.npz"
    with pytest.raises(UserError) as caught:
        prepare_image_set(archive, file_md5(archive), None, out, ImageSet.TRAINING)
    assert not out.parent.exists()
    return str(caught.value)


def test_a_hand_made_archive_with_five_training_batches_is_read_in_order(tmp_path):
    members = [*valid_members(one_record()), *reversed(train_members(_train_payloads()))]
    archive = build_tar(tmp_path / "a.tar.gz", members)
    out = tmp_path / "train_set.npz"
    prepare_image_set(archive, file_md5(archive), None, out, ImageSet.TRAINING)
    images, labels = load_image_set(out, ImageSet.TRAINING)
    assert labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert images[:, 7, 9, 1].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_a_missing_training_batch_is_named(tmp_path):
    members = train_members(_train_payloads())
    del members[2]
    archive = build_tar(tmp_path / "a.tar.gz", [*valid_members(one_record()), *members])
    message = _refusal(tmp_path, archive)
    assert f"has no member '{BATCH.format(3)}'" in message and "Fix: delete" in message


def test_a_truncated_training_batch_is_named(tmp_path):
    members = [*valid_members(one_record()), *train_members(_train_payloads())]
    archive = build_cut_tar(tmp_path / "a.tar.gz", members, BATCH.format(4))
    message = _refusal(tmp_path, archive)
    assert f"truncated or corrupt in or after member '{BATCH.format(4)}'" in message
    assert "Fix: delete" in message


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"\0" * 3000, "size 3,000 bytes is not 1 to 10,000 records of 3073 bytes"),
        (b"", "size 0 bytes is not 1 to 10,000 records"),
        (one_record() * 10_001, "size 30,733,073 bytes is not 1 to 10,000 records"),
        (one_record(label=10), "has label 10, outside 0..9"),
    ],
    ids=["partial-record", "empty", "too-many-records", "bad-label"],
)
def test_a_wrong_training_batch_is_named(tmp_path, payload, why):
    payloads = _train_payloads()
    payloads[1] = payload
    members = [*valid_members(one_record()), *train_members(payloads)]
    message = _refusal(tmp_path, build_tar(tmp_path / "a.tar.gz", members))
    assert BATCH.format(2) in message and why in message and "Fix: delete" in message


def test_load_train_set_refuses_a_cut_file_and_names_it_a_training_set(tmp_path, with_training):
    path, md5 = with_training
    out = tmp_path / "train_set.npz"
    prepare_image_set(path, md5, None, out, ImageSet.TRAINING)
    arrays = dict(np.load(out))
    with open(out, "wb") as stream:
        np.savez(
            stream, **arrays | {"labels": arrays["labels"][:5], "images": arrays["images"][:5]}
        )
    for read in (load_image_set, read_image_origin):
        with pytest.raises(UserError) as caught:
            read(out, ImageSet.TRAINING)
        assert f"Training set {out} holds 5 images, but the archive it was read from has 70" in (
            str(caught.value)
        )


def test_load_train_set_missing(tmp_path):
    with pytest.raises(UserError, match=r"Training set .*absent\.npz not found\. Fix: run"):
        load_image_set(tmp_path / "absent.npz", ImageSet.TRAINING)
