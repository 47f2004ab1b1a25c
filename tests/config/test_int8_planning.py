"""Planning of the int8 variant's calibration and of bf16 on the CPU."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from cifar_zeroshot.config.planning import plan_workflow
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.test_sets import register_user_sets
from cifar_zeroshot.runtimes import cpu_features
from cifar_zeroshot.runtimes.calibration_source import TRAINING_SET

REPO = Path(__file__).resolve().parents[2]
PROPERTIES = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())[
    "properties"
]


@pytest.fixture(autouse=True)
def _built_in_registry():
    yield
    register_user_sets([])


def _config(**overrides):
    config = {key: spec.get("default") for key, spec in PROPERTIES.items()}
    config.update(
        models=["squeezenet1_1"],
        weights="none",
        dataset="synthetic",
        class_mapping=str(REPO / "config/class_mapping.yaml"),
        precision=["fp32", "int8"],
        runtime=["torch", "onnxruntime"],
    )
    config.update(overrides)
    return config


def _arrays(path: Path, count: int) -> Path:
    images = np.zeros((count, 32, 32, 3), dtype=np.uint8)
    np.savez(path, images=images, labels=np.arange(count) % 10)
    return path


def test_with_cifar10_the_training_set_calibrates_and_every_test_image_is_scored():
    plan = plan_workflow(_config(int8_calibration_images=50))
    assert ("squeezenet1_1", "int8-onnxruntime") in plan.model_runs
    assert plan.calibration is not None and plan.calibration.image_set == TRAINING_SET
    assert plan.calibration.path == "data/synthetic/train_set.npz"
    assert plan.calibrates_on_training
    assert plan.test_sets.run_limit("cifar10") is None


def test_too_few_synthetic_training_images_are_refused_with_the_fix():
    with pytest.raises(UserError, match="set synthetic_train_images_per_class to at least 20"):
        plan_workflow(_config(int8_calibration_images=200, synthetic_train_images_per_class=5))


def test_without_a_training_set_the_test_sets_last_images_calibrate_and_are_never_scored(
    tmp_path,
):
    entry = {"name": "mine", "images": str(_arrays(tmp_path / "s.npz", 100))}
    plan = plan_workflow(_config(test_sets=[entry], int8_calibration_images=30))
    assert plan.calibration is not None and plan.calibration.image_set == "mine"
    assert not plan.calibrates_on_training
    scored = plan.test_sets.run_limit("mine")
    assert scored == 70  # every variant of the set: the pairs stay on the same images
    calibrating = plan.calibration.indices(100)
    assert calibrating.tolist() == list(range(70, 100))
    assert not set(calibrating) & set(range(scored))
    # A smaller shift_limit still cuts; a larger one stops before the calibration images.
    config = _config(test_sets=[entry], int8_calibration_images=30, shift_limit=10)
    assert plan_workflow(config).test_sets.run_limit("mine") == 10
    config = _config(test_sets=[entry], int8_calibration_images=30, shift_limit=90)
    assert plan_workflow(config).test_sets.run_limit("mine") == 70


def test_without_int8_nothing_is_held_out(tmp_path):
    entry = {"name": "mine", "images": str(_arrays(tmp_path / "s.npz", 100))}
    plan = plan_workflow(_config(test_sets=[entry], precision=["fp32"]))
    assert plan.calibration is None and plan.test_sets.run_limit("mine") is None


def test_a_calibration_that_leaves_nothing_to_score_is_refused(tmp_path):
    entry = {"name": "mine", "images": str(_arrays(tmp_path / "s.npz", 20))}
    with pytest.raises(UserError, match="leaves none of its 20 images to score"):
        plan_workflow(_config(test_sets=[entry], int8_calibration_images=20))


def test_int8_with_labreport_runs_only_the_weights_preprocessing():
    plan = plan_workflow(_config(preprocess=["weights", "labreport"]))
    variants = {variant for _, variant in plan.model_runs}
    assert "int8-onnxruntime" in variants and "int8-onnxruntime-labreport" not in variants


def test_int8_on_cuda_is_refused():
    with pytest.raises(UserError, match="int8 runs on ONNX Runtime's CPU execution provider"):
        plan_workflow(_config(device="cuda"))


def test_bf16_on_a_cpu_without_bf16_instructions_is_refused_at_planning(monkeypatch):
    monkeypatch.setattr(cpu_features, "cpu_flags", lambda: frozenset({"sse4_2", "avx2"}))
    config = _config(precision=["fp32", "bf16"], runtime=["torch"], device="cpu")
    with pytest.raises(UserError, match="bf16 with device cpu, but this CPU .* has none of the"):
        plan_workflow(config)
    monkeypatch.setattr(cpu_features, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert ("squeezenet1_1", "bf16") in plan_workflow(config).model_runs
