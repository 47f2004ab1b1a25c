"""timm models in the configuration: planned beside torchvision and CLIP models, or refused."""

import pytest
import yaml
from workflow_runner import REPO

from cifar_zeroshot.config.planning import plan_workflow, run_output_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.report.verification import requested_run

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


def _config(**overrides):
    schema = yaml.safe_load(SCHEMA.read_text())
    config = {key: spec.get("default") for key, spec in schema["properties"].items()}
    config.update(yaml.safe_load((REPO / "config/config.yaml").read_text()))
    config["class_mapping"] = str(REPO / "config/class_mapping.yaml")
    config["clip_prompts"] = str(REPO / "config/clip_prompts.yaml")
    config.update(overrides)
    return config


def test_timm_models_run_every_variant_onnxruntime_too_and_are_probed():
    plan = plan_workflow(
        _config(
            models=[
                "alexnet",
                "timm:test_vit.r160_in1k",
                {"name": "timm:resnet50", "weights": "none"},
            ],
            precision=["fp32", "bf16"],
            runtime=["torch", "onnxruntime"],
            preprocess=["weights", "labreport"],
            linear_probe=True,
        )
    )
    slug = "timm-test_vit.r160_in1k"
    assert [m.name for m in plan.models] == ["alexnet", slug, "timm-resnet50.a1_in1k"]
    timm_runs = sorted(v for m, v in plan.runs if m == slug)
    # As alexnet's: onnxruntime in fp32 only (the export job builds timm models too).
    assert timm_runs == sorted(v for m, v in plan.runs if m == "alexnet")
    assert len(timm_runs) == 6 and "fp32-onnxruntime" in timm_runs
    assert plan.probed_models == ("alexnet", slug, "timm-resnet50.a1_in1k")
    assert plan.model_weights["timm-resnet50.a1_in1k"] == "none"
    assert run_output_path(slug, "fp32") == f"results/logits/{slug}/fp32.parquet"
    assert requested_run(slug, "DEFAULT", "fp32", "synthetic", None).weights == (
        "timm/test_vit.r160_in1k"
    )


def test_problems_with_timm_names_are_listed_with_the_others():
    models = ["timm:", "timm:vit_small_patch16_224.augreg_in21k", "alexnet:V9"]
    with pytest.raises(UserError) as caught:
        plan_workflow(_config(models=models))
    message = str(caught.value)
    assert "timm model 'timm:' names no model" in message
    assert "augreg_in21k_ft_in1k" in message and "Unknown weights 'V9'" in message


def test_timm_models_run_on_onnxruntime_alone():
    plan = plan_workflow(_config(models=["timm:test_vit.r160_in1k"], runtime=["onnxruntime"]))
    assert plan.runs == [("timm-test_vit.r160_in1k", "fp32-onnxruntime")]
