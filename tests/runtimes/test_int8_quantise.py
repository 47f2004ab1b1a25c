"""The int8 precision on the CPU: quantising an export, its record, its checks and its refusals.

One small untrained model (squeezenet1_1) is exported and quantised once for the module,
calibrated on a fake training set; its int8 inference job runs on 20 random images.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from run_files import cpu_request

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.quantise_job import quantise_model
from cifar_zeroshot.records.logits import read_logits
from cifar_zeroshot.runtimes import cpu_features, onnx_quantise
from cifar_zeroshot.runtimes.calibration_source import TRAINING_SET, CalibrationSource
from cifar_zeroshot.runtimes.device_setup import set_precision
from cifar_zeroshot.runtimes.onnx_export import export_onnx
from cifar_zeroshot.runtimes.onnx_file import (
    QuantisedRecord,
    check_intact,
    exported_inputs,
    record_path,
    remove_damaged_exports,
)

MODEL = "squeezenet1_1"
INT8 = Variant("int8", runtime="onnxruntime")
CALIBRATION = 24


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("int8")
    rng = np.random.default_rng(5)
    for name, count in (("train_set", 60), ("test_set", 20)):
        images = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        np.savez(folder / f"{name}.npz", images=images, labels=labels)
    export_onnx(MODEL, "none", folder / f"{MODEL}.onnx")
    return folder


def _calibration(folder: Path) -> CalibrationSource:
    return CalibrationSource(TRAINING_SET, str(folder / "train_set.npz"), CALIBRATION)


@pytest.fixture(scope="module")
def quantised(folder: Path) -> Path:
    path = folder / f"{MODEL}.int8.onnx"
    quantise_model(MODEL, "none", folder / f"{MODEL}.onnx", path, _calibration(folder), threads=2)
    return path


def test_the_int8_variant_reads_the_quantised_file_beside_the_export() -> None:
    assert exported_inputs(MODEL, INT8) == {
        "onnx": f"results/onnx/{MODEL}.int8.onnx",
        "onnx_record": f"results/onnx/{MODEL}.int8.onnx.json",
    }


def test_the_record_names_the_calibration_images_and_the_source_export(
    folder: Path, quantised: Path
) -> None:
    record = check_intact(quantised)
    assert isinstance(record, QuantisedRecord)
    assert record.calibration_count == CALIBRATION
    assert record.calibration.image_set == TRAINING_SET and record.calibration.method == "MinMax"
    assert len(set(record.calibration.indices)) == CALIBRATION
    assert record.calibration.indices == sorted(record.calibration.indices)
    assert record.source_sha256 == check_intact(folder / f"{MODEL}.onnx").sha256
    assert "QDQ" in record.quantisation and record.size == quantised.stat().st_size
    raw = json.loads(record_path(quantised).read_text())
    assert raw["calibration"]["indices"] == record.calibration.indices


def test_the_quantised_graph_holds_int8_weights_and_is_smaller(folder: Path, quantised: Path):
    import onnx

    graph = onnx.load(str(quantised)).graph
    kinds = [node.op_type for node in graph.node]
    assert kinds.count("QuantizeLinear") > 10 and kinds.count("DequantizeLinear") > 10
    assert quantised.stat().st_size < 0.5 * (folder / f"{MODEL}.onnx").stat().st_size


def test_an_int8_job_writes_logits_close_in_ranking_to_fp32(
    folder: Path, quantised: Path, tmp_path: Path
) -> None:
    test_set = folder / "test_set.npz"
    for variant, model in ((INT8, quantised), (Variant("fp32"), None)):
        request = cpu_request(MODEL, test_set, tmp_path, variant, batch_size=8)
        run_inference(request, exported_model=model)
    int8 = read_logits(tmp_path / "logits" / MODEL / "int8-onnxruntime.parquet")
    fp32 = read_logits(tmp_path / "logits" / MODEL / "fp32.parquet")
    assert int8.facts.variant == "int8-onnxruntime" and int8.logits.shape == (20, 1000)
    correlation = np.corrcoef(int8.logits.ravel(), fp32.logits.ravel())[0, 1]
    assert correlation > 0.9  # quantised, not random: measured about 0.99


def test_a_damaged_quantised_file_is_never_used_and_is_deleted(
    quantised: Path, tmp_path: Path
) -> None:
    copy = tmp_path / quantised.name
    shutil.copy2(quantised, copy)
    shutil.copy2(record_path(quantised), record_path(copy))
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"is damaged \(its SHA-256 is"):
        check_intact(copy)
    assert remove_damaged_exports([copy]) and not copy.exists()


def test_a_model_the_quantiser_cannot_handle_is_refused_and_nothing_is_left(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*args: object, **kwargs: object) -> None:
        raise NotImplementedError("operator Mystery has no quantised kernel")

    monkeypatch.setattr(onnx_quantise, "_quantise", unsupported)
    destination = tmp_path / f"{MODEL}.int8.onnx"
    with pytest.raises(
        UserError,
        match=r"could not quantise squeezenet1_1 \(none\) to int8: NotImplementedError: operator "
        r"Mystery.*other variants are unaffected",
    ):
        quantise_model(
            MODEL, "none", folder / f"{MODEL}.onnx", destination, _calibration(folder), threads=2
        )
    assert list(tmp_path.iterdir()) == []


def test_more_calibration_images_than_the_set_holds_are_refused(folder: Path) -> None:
    source = CalibrationSource(TRAINING_SET, str(folder / "train_set.npz"), 61)
    with pytest.raises(UserError, match="int8_calibration_images is 61, but .* holds 60"):
        source.indices(60)


def test_bf16_on_a_cpu_without_bf16_instructions_is_refused_by_the_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpu_features, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    with pytest.raises(UserError, match="bf16 on the CPU: this CPU .* has none of the bf16"):
        set_precision(Variant("bf16"), torch.device("cpu"))
    monkeypatch.setattr(cpu_features, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert set_precision(Variant("bf16"), torch.device("cpu")) == (torch.bfloat16, True)


def test_int8_on_cuda_is_refused_by_the_job() -> None:
    with pytest.raises(UserError, match="CPU execution provider only"):
        set_precision(INT8, torch.device("cuda"))
