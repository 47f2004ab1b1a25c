"""Tests for cifar_zeroshot.data.archive: the binary format and reading archives safely."""

import logging
import tarfile

import numpy as np
import pytest
from archive_builders import (
    DIR,
    build_tar,
    one_record,
    records,
    synthetic_archive,
    tar_file,
    tar_special,
    valid_members,
)

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import (
    TEST_MEMBER,
    TRAIN_MEMBERS,
    decode_records,
    encode_records,
    read_batches,
    read_test_batch,
)


def test_reads_hand_made_records_into_hwc_rgb(tmp_path, caplog):
    yy, xx = np.mgrid[0:32, 0:32]
    labels = [7, 0, 9]
    planes = [(yy, xx, np.full((32, 32), 100 + label)) for label in labels]
    planes[1] = (yy * 8 % 256, 255 - xx, (yy * 32 + xx) % 251)
    members = [
        *valid_members(records(labels, planes)),
        tar_file(f"{DIR}/data_batch_1.bin", one_record()),  # other real members are allowed
        tar_file(f"{DIR}/readme.html", b"<html></html>"),
    ]
    archive = build_tar(tmp_path / "hand.tar.gz", members)

    with caplog.at_level(logging.INFO, logger="cifar_zeroshot"):
        images, got_labels = read_test_batch(archive)

    assert got_labels.tolist() == labels and got_labels.dtype == np.uint8
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.uint8
    # Pixel (y, x) of record 0 is (R=y, G=x, B=107): planes decoded row-major into HWC.
    assert images[0, 5, 2].tolist() == [5, 2, 107]
    assert images[0, 31, 0].tolist() == [31, 0, 107]
    assert images[2, 0, 17].tolist() == [0, 17, 109]
    for channel, plane in enumerate(planes[1]):
        np.testing.assert_array_equal(images[1, :, :, channel], plane.astype(np.uint8))
    assert f"read 3 test images from {archive}" in caplog.text


def test_encode_records_is_the_inverse_of_decode_records():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    labels = np.array([3, 0, 9, 3], np.uint8)
    data = encode_records(images, labels)
    assert len(data) == 4 * 3073 and data[0] == 3 and data[3073] == 0
    got_images, got_labels = decode_records(data)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_read_batches_reads_the_named_members_in_order(tmp_path):
    members = [
        *valid_members(one_record(label=1, value=10)),
        tar_file(TRAIN_MEMBERS[1], one_record(label=2, value=20) + one_record(label=3, value=30)),
        tar_file(TRAIN_MEMBERS[0], one_record(label=4, value=40)),
    ]
    archive = build_tar(tmp_path / "a.tar.gz", members)
    images, labels = read_batches(archive, [TRAIN_MEMBERS[0], TRAIN_MEMBERS[1], TEST_MEMBER])
    assert labels.tolist() == [4, 2, 3, 1]
    assert images[:, 0, 0, 0].tolist() == [40, 20, 30, 10]
    with pytest.raises(UserError, match=f"no member '{TRAIN_MEMBERS[2]}'"):
        read_batches(archive, [TRAIN_MEMBERS[2]])


def test_wrong_class_names_are_rejected(tmp_path):
    members = valid_members(one_record())
    members[1] = tar_file(f"{DIR}/batches.meta.txt", b"cat\ndog\n")
    archive = build_tar(tmp_path / "a.tar.gz", members)
    with pytest.raises(UserError, match=r"batches\.meta\.txt lists classes"):
        read_test_batch(archive)


def test_label_out_of_range_is_rejected(tmp_path):
    archive = build_tar(tmp_path / "a.tar.gz", valid_members(one_record(label=10)))
    with pytest.raises(UserError, match="test_batch.bin has label 10, outside 0..9"):
        read_test_batch(archive)


def test_missing_test_batch_is_rejected(tmp_path):
    archive = build_tar(tmp_path / "a.tar.gz", valid_members(one_record())[:2])
    with pytest.raises(UserError, match="no member 'cifar-10-batches-bin/test_batch.bin'"):
        read_test_batch(archive)


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (tar_file("../evil", b"x"), "unsafe member"),
        (tar_file(f"{DIR}/../../evil", b"x"), "unsafe member"),
        (tar_file("/abs/evil", b"x"), "unsafe member"),
        (tar_special(f"{DIR}/test_batch.bin", tarfile.SYMTYPE, "/etc/passwd"), "unsafe member"),
        (tar_special(f"{DIR}/data_batch_1.bin", tarfile.LNKTYPE, "/etc/passwd"), "unsafe member"),
        (tar_special(f"{DIR}/data_batch_2.bin", tarfile.FIFOTYPE), "unsafe member"),
        (tar_special(f"{DIR}/data_batch_3.bin", tarfile.CHRTYPE), "unsafe member"),
        (tar_file(f"{DIR}/extra.txt", b"x"), "unexpected member"),
        (tar_file("cifar-10-batches-py/test_batch", b"x"), "unexpected member"),
        (tar_special(f"{DIR}/readme.html", tarfile.DIRTYPE), "unexpected member"),
        (tar_file(f"{DIR}/data_batch_4.bin", b"\0" * 3000), "unexpected member"),
        (tar_file(f"{DIR}/data_batch_5.bin", b""), "unexpected member"),
        (tar_file(f"{DIR}/batches.meta.txt", b"a" * 100_000), "unexpected member"),
        (tar_file(f"{DIR}/test_batch.bin", one_record()), "unexpected member"),  # duplicate
    ],
    ids=lambda value: value[0].name if isinstance(value, tuple) else None,
)
def test_unsafe_or_unexpected_members_are_rejected(tmp_path, monkeypatch, member, why):
    workdir = tmp_path / "deep" / "work"
    workdir.mkdir(parents=True)
    monkeypatch.chdir(workdir)
    archive = build_tar(tmp_path / "bad.tar.gz", [*valid_members(one_record()), member])
    before = sorted(tmp_path.rglob("*"))

    with pytest.raises(UserError) as caught:
        read_test_batch(archive)

    message = str(caught.value)
    assert why in message and str(archive) in message and member[0].name in message
    assert "Fix:" in message
    assert sorted(tmp_path.rglob("*")) == before  # nothing extracted anywhere
    assert not (tmp_path.parent / "evil").exists()


def test_unsafe_member_is_rejected_even_when_not_asked_for(tmp_path):
    # Every member is vetted, not only the ones read: a training-batch reader gets the same
    # checks as the test-batch reader.
    bad = tar_special(TRAIN_MEMBERS[4], tarfile.SYMTYPE, "/etc/passwd")
    archive = build_tar(tmp_path / "bad.tar.gz", [*valid_members(one_record()), bad])
    with pytest.raises(UserError, match="unsafe member .*data_batch_5.bin': link"):
        read_batches(archive, [TEST_MEMBER])


def test_truncated_archive_is_a_user_error(tmp_path):
    path, _ = synthetic_archive(tmp_path)
    cut = tmp_path / "cut.tar.gz"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match=r"cut\.tar\.gz .*Fix: delete"):
        read_test_batch(cut)


def test_garbage_archive_is_a_user_error(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a gzip at all" * 100)
    with pytest.raises(UserError, match=r"junk\.tar\.gz is not a readable tar\.gz"):
        read_test_batch(junk)


def test_missing_archive_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"nope\.tar\.gz not found\. Fix: rerun the workflow"):
        read_test_batch(tmp_path / "nope.tar.gz")
