"""The job kinds an inference request may describe, and the combinations no job writes."""

import dataclasses
from pathlib import Path

import pytest
from run_files import cpu_request

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.inference.request import ImageSet, JobKind, check_request


def _request(tmp_path: Path, image_set: ImageSet = ImageSet.TEST, **paths: Path | None):
    base = cpu_request("alexnet", tmp_path / "test_set.npz", tmp_path)
    return dataclasses.replace(
        base,
        image_set=image_set,
        logits_path=paths.get("logits"),
        features_path=paths.get("features"),
        embeddings_path=paths.get("embeddings"),
    )


@pytest.mark.parametrize(
    ("image_set", "outputs", "kind"),
    [
        (ImageSet.TEST, ("logits",), JobKind.LOGITS),
        (ImageSet.TEST, ("logits", "features"), JobKind.LOGITS_AND_FEATURES),
        (ImageSet.TRAINING, ("features",), JobKind.TRAINING_FEATURES),
        (ImageSet.TEST, ("embeddings",), JobKind.EMBEDDINGS),
        # A classifier the probe alone scores (a timm model with an in21k head).
        (ImageSet.TEST, ("features",), JobKind.TEST_FEATURES),
    ],
)
def test_each_job_kind_is_told_by_its_image_set_and_outputs(tmp_path, image_set, outputs, kind):
    request = _request(tmp_path, image_set, **{name: tmp_path / name for name in outputs})
    assert check_request(request) is kind
    assert kind.image_set is image_set and kind.outputs == frozenset(outputs)


@pytest.mark.parametrize(
    ("image_set", "outputs"),
    [
        (ImageSet.TEST, ()),
        (ImageSet.TEST, ("logits", "embeddings")),
        (ImageSet.TRAINING, ("logits",)),
        (ImageSet.TRAINING, ("logits", "features")),
        (ImageSet.TRAINING, ("embeddings",)),
    ],
)
def test_a_combination_no_job_writes_is_refused(tmp_path, image_set, outputs):
    request = _request(tmp_path, image_set, **{name: tmp_path / name for name in outputs})
    with pytest.raises(ValueError, match="no inference job writes"):
        check_request(request)


def test_a_training_features_job_takes_every_image(tmp_path):
    request = dataclasses.replace(
        _request(tmp_path, ImageSet.TRAINING, features=tmp_path / "f.parquet"), limit=5
    )
    with pytest.raises(ValueError, match="every image of the training set"):
        check_request(request)


def test_a_bad_limit_is_a_user_error(tmp_path):
    request = dataclasses.replace(_request(tmp_path, logits=tmp_path / "l.parquet"), limit=0)
    with pytest.raises(UserError, match="limit must be a positive integer"):
        check_request(request)
