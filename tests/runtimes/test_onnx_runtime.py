"""The onnxruntime runtime on the CPU: export, the exported file's record, and inference jobs.

One small untrained model (squeezenet1_1) is exported once for the module; its inference jobs
run on 20 random images, beside the torch fp32 job they are compared with.
"""

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from run_files import cpu_request
from unconvertible_op import mystery

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.request import InferenceRequest
from cifar_zeroshot.models.torchvision.classifiers import load_model
from cifar_zeroshot.records.logits import read_logits, read_timing
from cifar_zeroshot.runtimes import onnx_file
from cifar_zeroshot.runtimes.forward_loading import forward_loader
from cifar_zeroshot.runtimes.onnx_export import export_onnx
from cifar_zeroshot.runtimes.onnx_file import check_intact, record_path, remove_damaged_exports
from cifar_zeroshot.runtimes.onnx_forward import onnx_forward

MODEL = "squeezenet1_1"
N_IMAGES = 20
BATCH = 8
ONNX = Variant("fp32", runtime="onnxruntime")
# ONNX Runtime sums in another order than oneDNN: its logits stay within this fraction of the
# largest logit of torch's (measured: 3e-7 for this model).
LOGITS_TOLERANCE = 1e-4
OTHER_WEIGHTS = "SqueezeNet1_1_Weights.IMAGENET1K_V1"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / f"{MODEL}.onnx"
    export_onnx(MODEL, "none", path)
    return path


@pytest.fixture
def copy_of_export(exported: Path, tmp_path: Path) -> Path:
    """A private copy (file times kept, as the record expects) that a test may damage."""
    copy = tmp_path / exported.name
    shutil.copy2(exported, copy)
    shutil.copy2(record_path(exported), record_path(copy))
    return copy


@pytest.fixture(scope="module")
def test_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(11)
    path = tmp_path_factory.mktemp("data") / "test_set.npz"
    images = rng.integers(0, 256, (N_IMAGES, 32, 32, 3), dtype=np.uint8)
    np.savez(path, images=images, labels=(np.arange(N_IMAGES) % 10).astype(np.uint8))
    return path


def _request(test_set: Path, out: Path, variant: Variant) -> InferenceRequest:
    return cpu_request(MODEL, test_set, out, variant, batch_size=BATCH)


def test_export_writes_one_file_and_a_record_of_it(exported: Path) -> None:
    assert sorted(p.name for p in exported.parent.iterdir()) == [
        f"{MODEL}.onnx",
        f"{MODEL}.onnx.json",
    ]
    record = check_intact(exported)
    assert (record.model, record.weights, record.torch_version) == (
        MODEL,
        "none",
        torch.__version__,
    )
    assert record.size == exported.stat().st_size
    assert record.sha256 == onnx_file.file_sha256(exported)
    batch, channels, *_ = record.input_shape
    assert (batch, channels) == ("batch", 3)  # any batch size, so any halving, runs one file


def test_onnxruntime_job_agrees_with_torch_fp32_and_writes_the_same_files(
    exported: Path, test_set: Path, tmp_path: Path
) -> None:
    torch_run = run_inference(_request(test_set, tmp_path, Variant("fp32")))
    onnx_request = _request(test_set, tmp_path, ONNX)
    onnx_run = run_inference(onnx_request, exported_model=exported)

    reference = read_logits(_request(test_set, tmp_path, Variant("fp32")).logits_path)
    ours = read_logits(onnx_request.logits_path)
    np.testing.assert_array_equal(ours.image_index, reference.image_index)
    assert np.mean(ours.logits.argmax(1) == reference.logits.argmax(1)) >= 0.99
    scale = np.abs(reference.logits).max()
    assert np.abs(ours.logits - reference.logits).max() <= LOGITS_TOLERANCE * scale

    # The same facts but the variant's name and precision fields and the memory format (torch's
    # alone), the same timing layout.
    assert onnx_run.facts.memory_format is None
    assert replace(onnx_run.facts, variant="fp32", memory_format="channels_last") == torch_run.facts
    assert ours.facts == onnx_run.facts
    timing = read_timing(onnx_request.timing_path)
    reference_timing = read_timing(_request(test_set, tmp_path, Variant("fp32")).timing_path)
    assert list(timing.batches.columns) == list(reference_timing.batches.columns)
    assert timing.summary.images_per_second > 0
    assert timing.summary.model_load_seconds > 0


def test_onnxruntime_reruns_are_bit_identical(
    exported: Path, test_set: Path, tmp_path: Path
) -> None:
    logits = []
    for folder in ("a", "b"):
        request = _request(test_set, tmp_path / folder, ONNX)
        run_inference(request, exported_model=exported)
        logits.append(read_logits(request.logits_path).logits)
    np.testing.assert_array_equal(logits[0], logits[1])


def test_a_truncated_export_is_refused_and_deleted_for_a_new_export(copy_of_export: Path) -> None:
    with copy_of_export.open("r+b") as handle:
        handle.truncate(copy_of_export.stat().st_size // 2)
    with pytest.raises(UserError, match=r"is damaged \(it has .* bytes, the export wrote"):
        onnx_forward(copy_of_export, (MODEL, "none"), torch.device("cpu"), "fp32", 1)
    [message] = remove_damaged_exports([copy_of_export])
    assert "deleted, to be exported again" in message
    assert not copy_of_export.exists() and not record_path(copy_of_export).exists()


def test_a_dry_run_only_says_what_a_run_would_delete(copy_of_export: Path) -> None:
    with copy_of_export.open("r+b") as handle:
        handle.truncate(1000)
    record = record_path(copy_of_export).read_bytes()
    [message] = remove_damaged_exports([copy_of_export], dry_run=True)
    assert message == (
        f"{copy_of_export} is damaged (it has 1,000 bytes, the export wrote "
        f"{json.loads(record)['size']:,}): left as it is, since no job runs now; a run deletes "
        "it and exports it again"
    )
    assert (
        copy_of_export.stat().st_size == 1000 and record_path(copy_of_export).read_bytes() == record
    )


def test_a_changed_byte_is_found_by_its_digest(copy_of_export: Path) -> None:
    data = bytearray(copy_of_export.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy_of_export.write_bytes(bytes(data))  # same size, a new modification time
    with pytest.raises(UserError, match=r"is damaged \(its SHA-256 is"):
        check_intact(copy_of_export)
    assert remove_damaged_exports([copy_of_export])
    assert not copy_of_export.exists()


def test_an_unchanged_export_is_kept_without_hashing_it_again(
    copy_of_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_hashing(path: Path) -> str:
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(onnx_file, "file_sha256", no_hashing)
    assert remove_damaged_exports([copy_of_export, copy_of_export.with_name("absent.onnx")]) == []
    assert copy_of_export.exists()


def test_a_touched_but_intact_export_is_kept(copy_of_export: Path) -> None:
    os.utime(copy_of_export)  # a copy without its times: hashed, found equal
    assert remove_damaged_exports([copy_of_export]) == []
    assert copy_of_export.exists()


def test_an_export_without_its_record_is_never_used(copy_of_export: Path) -> None:
    record_path(copy_of_export).unlink()
    with pytest.raises(UserError, match=r"onnx.json is missing.*not used"):
        check_intact(copy_of_export)
    assert remove_damaged_exports([copy_of_export])
    assert not copy_of_export.exists()


def test_an_export_of_other_weights_is_refused(exported: Path) -> None:
    with pytest.raises(UserError, match=r"exported from squeezenet1_1 \(none\), but this job runs"):
        onnx_forward(exported, (MODEL, OTHER_WEIGHTS), torch.device("cpu"), "fp32", 1)


def test_another_image_size_is_refused_naming_the_fix(exported: Path) -> None:
    forward = onnx_forward(exported, (MODEL, "none"), torch.device("cpu"), "fp32", 1)
    assert forward(torch.zeros(2, 3, 64, 64)).shape == (2, 1000)  # height and width dynamic
    with pytest.raises(UserError, match=r"takes images of shape \[3, .*gives \[1, 64, 64\]"):
        forward(torch.zeros(2, 1, 64, 64))


def test_cuda_without_the_cuda_provider_names_onnxruntime_gpu(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(UserError, match=r"lacks .*pip install onnxruntime-gpu"):
        onnx_forward(exported, (MODEL, "none"), torch.device("cuda"), "fp32", 1)


def test_an_onnxruntime_job_without_an_export_is_refused() -> None:
    with pytest.raises(UserError, match=r"fp32-onnxruntime runs the exported ONNX model"):
        forward_loader(ONNX, None, 1, load_model)


class _Mystery(torch.nn.Module):
    """Calls an operator that has no ONNX translation: the exporter must give up."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mystery(x)


def test_a_model_the_exporter_cannot_convert_names_model_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "onnx" / f"{MODEL}.onnx"
    with pytest.raises(UserError) as caught:
        export_onnx(MODEL, "none", path, model_loader=lambda name, weights: _Mystery())
    message = str(caught.value)
    assert message.startswith("torch.onnx.export could not convert squeezenet1_1 (none)")
    assert "cifar_zeroshot_test.mystery" in message  # the exporter's reason
    assert "\x1b[" not in message  # without the exporter's terminal colours
    assert list(path.parent.iterdir()) == []  # no file, no record, no temp file
