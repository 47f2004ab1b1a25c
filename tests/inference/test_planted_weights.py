"""Every job that reads torchvision weights refuses a pickle planted as the published file.

The logits job, a features job (the probe's) and the ONNX export all load the model through
models.torchvision.classifiers.load_model; each must refuse the file before it is unpickled, in one
line, and write nothing.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from planted_files import offline_torch_hub, plant_payload
from run_files import cpu_request

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.models.torchvision.classifiers import cached_weights_path, resolve_weights
from cifar_zeroshot.runtimes.onnx_export import export_onnx

MODEL = "squeezenet1_1"


def _test_set(folder: Path) -> Path:
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "test_set.npz"
    images = rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    np.savez(path, images=images, labels=(np.arange(8) % 10).astype(np.uint8))
    return path


def _logits_job(out: Path) -> None:
    request = cpu_request(MODEL, _test_set(out), out / "results", weights="DEFAULT")
    run_inference(request)


def _features_job(out: Path) -> None:
    request = cpu_request(
        MODEL,
        _test_set(out),
        out / "results",
        weights="DEFAULT",
        features_path=out / "results" / "features" / MODEL / "fp32" / "test.parquet",
    )
    run_inference(request)


def _onnx_export(out: Path) -> None:
    export_onnx(MODEL, "DEFAULT", out / "results" / "onnx" / f"{MODEL}.onnx")


@pytest.mark.parametrize("job", [_logits_job, _features_job, _onnx_export])
def test_a_planted_weights_file_never_runs(
    job: Callable[[Path], None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = offline_torch_hub(tmp_path / "torch", monkeypatch)
    path = cached_weights_path(resolve_weights(MODEL, "DEFAULT"))
    assert path.parent == hub / "checkpoints"
    plant_payload(path, tmp_path / "ran")
    with pytest.raises(UserError) as caught:
        job(tmp_path / "job")
    assert not (tmp_path / "ran").exists()
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert "delete it to download it again" in message
    assert not list((tmp_path / "job" / "results").rglob("*.*"))
