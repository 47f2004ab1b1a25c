"""Tests for cifar_zeroshot.report.run_info: results/run_info.yaml."""

import numpy as np
import pytest
import yaml
from run_files import make_facts

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.records.logits import LogitsWriter
from cifar_zeroshot.report.run_info import PACKAGES, collect_run_info, write_run_info


def _logits_file(path, model, device_name):
    facts = make_facts(
        model,
        "bf16",
        weights="none",
        device="cuda",
        device_name=device_name,
        gpu_index=1,
        batch_size=256,
        image_count=2,
    )
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
    assert info["inference_runs"]["vgg16/bf16"] == {
        "weights": "none",
        "device": "cuda",
        "device_name": "NVIDIA H100",
        "gpu_index": 1,
        "torch_version": "2.11.0",
        "batch_size": 256,
        "torchvision_version": "0.26.0",
    }
    assert info["inference_runs"]["alexnet/bf16"]["device_name"] == "NVIDIA H200"
    assert list(info) == ["configuration", "software", "inference_runs"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet", "b.parquet", "run_info.yaml"]


def test_run_info_refuses_a_file_that_is_not_logits(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(UserError, match="bad.parquet is not a readable Parquet file"):
        collect_run_info({}, [bad])


def test_run_info_lists_each_model_collection_with_its_models(tmp_path):
    paths = [_logits_file(tmp_path / "a.parquet", "alexnet", "NVIDIA H200")]
    collections = {"timm:resnet*.a1_in1k": ["timm:resnet18.a1_in1k", "timm:resnet34.a1_in1k"]}
    out = tmp_path / "run_info.yaml"
    write_run_info(out, collect_run_info({"models": ["alexnet"]}, paths, collections))
    info = yaml.safe_load(out.read_text())
    assert info["model_collections"] == collections
    assert list(info) == ["configuration", "model_collections", "software", "inference_runs"]
