"""The int8 precision through snakemake: export, quantise rule, inference, metrics, refusal.

Starts from the session's finished small run and runs squeezenet1_1, untrained, in fp32 on torch
and on ONNX Runtime and in int8 on ONNX Runtime, calibrated on the synthetic training set.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_runner import SMALL_CONFIG, copy_finished_run, snakemake, write_config

from cifar_zeroshot.records.logits import read_logits
from cifar_zeroshot.runtimes.onnx_file import check_intact

pytestmark = pytest.mark.e2e

MODEL = "squeezenet1_1"
CONFIG = {
    **SMALL_CONFIG,
    "models": [MODEL],
    "runtime": ["torch", "onnxruntime"],
    "precision": ["fp32", "int8"],
    "synthetic_train_images_per_class": 3,
    "int8_calibration_images": 20,
}
IMAGES = 10 * CONFIG["synthetic_images_per_class"]
METRICS = "results/metrics.csv"
QUANTISED = f"results/onnx/{MODEL}.int8.onnx"
INT8_LOGITS = f"results/logits/cifar10/{MODEL}/int8-onnxruntime.parquet"
OTHER_LOGITS = [
    f"results/logits/cifar10/{MODEL}/{variant}.parquet" for variant in ("fp32", "fp32-onnxruntime")
]

# Replaces the quantise script in one test's copy: the real job, with a quantiser that gives up
# as onnxruntime.quantization does on an operator it has no rule for.
REFUSING_QUANTISER = """
from pathlib import Path

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.inference.quantise_job import quantise_model
from cifar_zeroshot.runtimes import onnx_quantise
from cifar_zeroshot.runtimes.calibration_source import CalibrationSource


def refuse(*args, **kwargs):
    raise NotImplementedError("no quantisation rule for operator Mystery")


onnx_quantise._quantise = refuse
with job_log(snakemake.log[0], snakemake.output):
    quantise_model(
        snakemake.wildcards.model,
        snakemake.params.weights,
        Path(snakemake.input.onnx),
        Path(snakemake.output.model),
        CalibrationSource.from_params(snakemake.params.calibration),
        threads=snakemake.threads,
    )
"""


@pytest.fixture(scope="module")
def workdir(_pristine_small_run, tmp_path_factory) -> Path:
    workdir = copy_finished_run(_pristine_small_run, tmp_path_factory.mktemp("int8") / "run")
    write_config(workdir, CONFIG)
    snakemake(workdir, METRICS)
    return workdir


def test_the_quantised_model_is_recorded_with_its_training_calibration_images(workdir):
    record = check_intact(workdir / QUANTISED)
    assert record.calibration.image_set == "training set"
    assert record.calibration_count == 20
    assert record.calibration.path == "data/synthetic/train_set.npz"
    assert record.source_sha256 == check_intact(workdir / f"results/onnx/{MODEL}.onnx").sha256
    log = (workdir / f"logs/quantise/{MODEL}.log").read_text()
    assert "calibrated on 20 images of the training set" in log


def test_int8_rows_are_scored_on_every_test_image_beside_fp32(workdir):
    int8 = read_logits(workdir / INT8_LOGITS)
    assert int8.logits.shape == (IMAGES, 1000) and int8.facts.precision == "int8"
    assert np.isfinite(int8.logits).all()
    metrics = pd.read_csv(workdir / METRICS).query("method == 'class_mapping'")
    metrics = metrics.set_index("variant")
    assert sorted(metrics.index) == ["fp32", "fp32-onnxruntime", "int8-onnxruntime"]
    assert 0 <= metrics.loc["int8-onnxruntime", "agreement_with_fp32"] <= 1
    pairs = pd.read_csv(workdir / "results/paired_tests.csv")
    int8_vs_fp32 = pairs.query(
        "variant_a == 'fp32' and variant_b == 'int8-onnxruntime' and method_a == method_b"
    )
    assert len(int8_vs_fp32) and int8_vs_fp32["difference_ci_low"].notna().all()


def test_a_model_the_quantiser_cannot_handle_stops_only_its_int8_variant(workdir, tmp_path):
    own_copy = copy_finished_run(workdir, tmp_path / "copy")
    (own_copy / "workflow/scripts/quantise_onnx.py").write_text(REFUSING_QUANTISER)
    for path in (INT8_LOGITS, QUANTISED, f"{QUANTISED}.json", *OTHER_LOGITS):
        (own_copy / path).unlink()
    result = snakemake(own_copy, INT8_LOGITS, *OTHER_LOGITS, "--keep-going", check=False)
    assert result.returncode != 0
    assert (
        "ERROR: onnxruntime.quantization could not quantise squeezenet1_1 (none) to int8: "
        "NotImplementedError: no quantisation rule for operator Mystery"
    ) in result.stderr
    assert all((own_copy / path).exists() for path in OTHER_LOGITS)
    assert not (own_copy / INT8_LOGITS).exists() and not (own_copy / QUANTISED).exists()


def test_the_record_lists_which_training_images_calibrated(workdir):
    raw = json.loads((workdir / f"{QUANTISED}.json").read_text())
    indices = raw["calibration"]["indices"]
    assert len(set(indices)) == 20 and all(0 <= i < 30 for i in indices)
