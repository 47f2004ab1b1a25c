import numpy as np
import pytest
import yaml

from cifar_zeroshot.errors import UserError
from cifar_zeroshot.logits_io import LogitsWriter
from cifar_zeroshot.run_info import PACKAGES, collect_run_info, write_run_info
from cifar_zeroshot.script_support import run_reporting_user_errors


def _logits_file(path, model, device_name):
    facts = {
        "model": model,
        "variant": "bf16",
        "weights": "none",
        "device": "cuda",
        "device_name": device_name,
        "gpu_index": 1,
        "torch_version": "2.11.0",
        "torchvision_version": "0.26.0",
        "batch_size": 256,
        "image_count": 2,
    }
    with LogitsWriter(path, facts) as writer:
        writer.write_batch(np.arange(2), np.zeros(2), np.zeros((2, 1000), np.float32))
    return path


def test_run_info_holds_configuration_software_and_each_runs_device(tmp_path):
    paths = [
        _logits_file(tmp_path / "a.parquet", "alexnet", "NVIDIA H200"),
        _logits_file(tmp_path / "b.parquet", "vgg16", "NVIDIA H100"),
    ]
    out = tmp_path / "run_info.yaml"
    write_run_info(out, collect_run_info({"batch_size": 256, "models": ["alexnet"]}, paths))
    info = yaml.safe_load(out.read_text())
    assert info["configuration"] == {"batch_size": 256, "models": ["alexnet"]}
    assert set(PACKAGES) <= set(info["software"])
    assert info["software"]["numpy"] == np.__version__
    assert info["inference_runs"]["vgg16/bf16"]["device_name"] == "NVIDIA H100"
    assert info["inference_runs"]["alexnet/bf16"]["gpu_index"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet", "b.parquet", "run_info.yaml"]


def test_run_info_refuses_a_file_that_is_not_logits(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(UserError, match="bad.parquet is not a readable Parquet file"):
        collect_run_info({}, [bad])


def test_user_errors_become_one_line_and_exit_status_1(tmp_path, capsys):
    log = tmp_path / "job.log"

    def fails():
        raise UserError("limit 0 is not allowed. Fix: use null or a positive number.")

    with pytest.raises(SystemExit) as stopped:
        run_reporting_user_errors(fails, log)
    assert stopped.value.code == 1
    expected = "ERROR: limit 0 is not allowed. Fix: use null or a positive number."
    assert capsys.readouterr().err.strip() == expected
    assert log.read_text().strip() == expected


def test_other_exceptions_keep_their_traceback(tmp_path):
    def bug():
        raise KeyError("a bug, not a user error")

    with pytest.raises(KeyError):
        run_reporting_user_errors(bug, tmp_path / "job.log")
