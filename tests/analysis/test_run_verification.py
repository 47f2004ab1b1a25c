"""Tests for cifar_zeroshot.analysis.verification: each run file is the run the config asks for."""

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from run_files import GROUPS, make_facts, one_hot_logits, write_run

from cifar_zeroshot.analysis.evaluation import read_runs, score_runs
from cifar_zeroshot.analysis.verification import RequestedRun, RunCheck, requested_run, run_checks
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.test_set_checks import ConfiguredTestSet
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.methods.interface import RunOutputs

LABELS = np.arange(30) % 10
DIGEST = make_facts().test_set_sha256
TEST_SET = ConfiguredTestSet(Path("data/synthetic/test_set.npz"), LABELS.astype(np.uint8), DIGEST)
MAX_LOGIT = [ClassMappingMethod(GROUPS, "max_logit")]


def _requested(model: str = "resnet", variant: str = "fp32", **changes) -> RequestedRun:
    wanted = RequestedRun(model, f"{model}_Weights.X", variant, "synthetic", None)
    return dataclasses.replace(wanted, **changes)


def _check(folder: Path, model: str = "resnet", variant: str = "fp32", **changes) -> RunCheck:
    logits = folder / "logits" / model / f"{variant}.parquet"
    timing = folder / "timing" / model / f"{variant}.parquet"
    return RunCheck(_requested(model, variant, **changes), TEST_SET, logits, timing)


def test_weights_are_resolved_as_the_facts_store_them():
    assert requested_run("alexnet", "none", "fp32", "cifar10", None).weights == "none"
    default = requested_run("resnet50", "DEFAULT", "bf16", "synthetic", 20)
    assert default == RequestedRun(
        "resnet50", "ResNet50_Weights.IMAGENET1K_V2", "bf16", "synthetic", 20
    )
    old = requested_run("resnet50", "IMAGENET1K_V1", "fp32", "cifar10", None)
    assert old.weights == "ResNet50_Weights.IMAGENET1K_V1"
    assert RequestedRun(**default.to_params()) == default  # through Snakemake's params


def test_matching_facts_pass(tmp_path):
    _check(tmp_path).check_facts(tmp_path / "l.parquet", make_facts())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"model": "squeezenet1_1"}, "model is 'squeezenet1_1', expected 'resnet'"),
        ({"weights": "none"}, "weights is 'none', expected 'resnet_Weights.X'"),
        ({"variant": "bf16"}, "variant is 'bf16', expected 'fp32'"),
        ({"dataset": "cifar10"}, "dataset is 'cifar10', expected 'synthetic'"),
        ({"limit": 30}, "limit is 30, expected None"),
        ({"image_count": 29}, "image_count is 29, expected 30"),
        ({"test_set_sha256": "ab" * 32}, "test_set_sha256 is 'abababababab...', expected '5e5e"),
    ],
)
def test_each_differing_fact_is_named_with_what_was_expected(tmp_path, changes, expected):
    facts = make_facts(**changes)  # 30 images by default
    path = tmp_path / "logits/resnet/fp32.parquet"
    with pytest.raises(UserError) as caught:
        _check(tmp_path).check_facts(path, facts)
    message = str(caught.value)
    assert message.startswith(f"{path} is not the run the configuration asks for: {expected}")
    assert (
        f"Fix: rerun that job with `snakemake --forcerun {path}` (with your usual "
        f"--configfile/--config), or delete {path} and {tmp_path / 'timing/resnet/fp32.parquet'} "
        "and rerun snakemake." in message
    )


def test_all_differing_facts_go_into_one_message(tmp_path):
    facts = make_facts(image_count=40, limit=40, test_set_sha256="cd" * 32)
    with pytest.raises(UserError) as caught:
        _check(tmp_path, limit=20).check_facts(tmp_path / "l.parquet", facts)
    assert (
        "limit is 40, expected 20; image_count is 40, expected 30; test_set_sha256 is "
        "'cdcdcdcdcdcd...', expected '5e5e5e5e5e5e...' (the images of "
        "data/synthetic/test_set.npz after the limit)." in str(caught.value)
    )


def _outputs(labels: np.ndarray, image_index: np.ndarray | None = None) -> RunOutputs:
    index = np.arange(len(labels)) if image_index is None else image_index
    return RunOutputs(make_facts(), index, labels, np.zeros((len(labels), 1000), np.float32))


def test_rows_must_carry_the_test_sets_labels_image_by_image(tmp_path):
    check, path = _check(tmp_path), tmp_path / "l.parquet"
    check.check_rows(path, _outputs(LABELS.astype(np.int64)))
    edited = LABELS.copy()
    edited[[4, 7]] = 9
    with pytest.raises(UserError) as caught:
        check.check_rows(path, _outputs(edited))
    assert str(caught.value).startswith(
        f"{path} has label 9 for image_index 4, but data/synthetic/test_set.npz says 4 (2 of 30 "
        "labels differ): the file was edited. Fix: rerun that job"
    )
    with pytest.raises(UserError, match=r"does not hold images 0..29 of .* once each"):
        check.check_rows(path, _outputs(LABELS, np.arange(1, 31)))


def test_read_runs_checks_every_file_before_it_is_scored(tmp_path):
    logits = one_hot_logits(LABELS * 10)
    runs = [
        write_run(tmp_path, "resnet", "fp32", logits, LABELS),
        write_run(tmp_path, "vit", "fp32", logits, LABELS),
    ]
    requested = [_requested("resnet").to_params(), _requested("vit").to_params()]
    results = score_runs(read_runs(runs, run_checks(runs, requested, TEST_SET)), MAX_LOGIT)
    assert [r.correct[1] for r in results] == [30, 30]

    # Only vit's timing file copied over resnet's: the message names that file.
    shutil.copyfile(runs[1][1], runs[0][1])
    checks = run_checks(runs, requested, TEST_SET)
    with pytest.raises(UserError, match=r"timing.resnet.fp32\.parquet is not the run .*'vit'"):
        read_runs(runs, checks)
    # Both of vit's files copied over resnet's: reported under resnet before, refused now.
    shutil.copyfile(runs[1][0], runs[0][0])
    with pytest.raises(UserError, match=r"logits.resnet.fp32\.parquet is not the run .*'vit'"):
        read_runs(runs, checks)


def test_read_runs_refuses_an_edited_label_column(tmp_path):
    logits_path, timing_path = write_run(tmp_path, "resnet", "fp32", one_hot_logits(LABELS), LABELS)
    table = pq.read_table(logits_path)
    edited = table.set_column(1, table.schema.field("label"), [(LABELS[::-1]).astype(np.int8)])
    # write_run shuffles the rows, so the reversed column lands on other images.
    pq.write_table(edited.replace_schema_metadata(table.schema.metadata), logits_path)
    checks = run_checks([(logits_path, timing_path)], [_requested().to_params()], TEST_SET)
    with pytest.raises(UserError, match=r"fp32\.parquet has label \d for image_index \d+, but"):
        read_runs([(logits_path, timing_path)], checks)


def test_one_requested_run_per_run_file_pair(tmp_path):
    with pytest.raises(ValueError, match="2 runs but 1 requested runs"):
        run_checks([("a", "b"), ("c", "d")], [_requested().to_params()], TEST_SET)
