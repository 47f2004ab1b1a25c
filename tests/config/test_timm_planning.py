"""timm models in the configuration: planned beside torchvision and CLIP models, or refused."""

import pytest
import yaml
from workflow_runner import REPO

from cifar_zeroshot.analysis.verification import requested_run
from cifar_zeroshot.config.planning import plan_workflow
from cifar_zeroshot.core.errors import UserError

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
    timm_runs = sorted(v for m, v in plan.model_runs if m == slug)
    # As alexnet's: onnxruntime in fp32 only (the export job builds timm models too).
    assert timm_runs == sorted(v for m, v in plan.model_runs if m == "alexnet")
    assert len(timm_runs) == 6 and "fp32-onnxruntime" in timm_runs
    assert plan.probed_models == ("alexnet", slug, "timm-resnet50.a1_in1k")
    assert plan.model_weights["timm-resnet50.a1_in1k"] == "none"
    assert plan.run_output_path("cifar10", slug, "fp32") == (
        f"results/logits/cifar10/{slug}/fp32.parquet"
    )
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
    assert plan.model_runs == [("timm-test_vit.r160_in1k", "fp32-onnxruntime")]


IN21K = "timm:vit_tiny_patch16_224.augreg_in21k"  # a head of 21,843 classes
IN21K_SLUG = "timm-vit_tiny_patch16_224.augreg_in21k"
FINE_TUNED = "timm:vit_tiny_patch16_224.augreg_in21k_ft_in1k"


def test_a_head_not_imagenet_1k_runs_for_the_linear_probe_alone():
    plan = plan_workflow(
        _config(
            models=["alexnet", IN21K],
            runtime=["torch", "onnxruntime"],
            precision=["fp32", "bf16"],
            linear_probe=True,
        )
    )
    assert plan.probe_only_models == [IN21K_SLUG]
    assert IN21K_SLUG in plan.probed_models
    # The probe's variants only (the torch runtime's): an export holds logits, no features.
    assert sorted(v for m, v in plan.model_runs if m == IN21K_SLUG) == ["bf16", "fp32"]
    assert sorted(v for m, v in plan.probe_runs if m == IN21K_SLUG) == ["bf16", "fp32"]
    # The metrics read its test features; alexnet's runs keep their logits.
    assert plan.run_output_path("cifar10", IN21K_SLUG, "fp32") == (
        f"results/features/cifar10/{IN21K_SLUG}/fp32/test.parquet"
    )
    assert plan.run_output_path("cifar10", "alexnet", "fp32") == (
        "results/logits/cifar10/alexnet/fp32.parquet"
    )
    [note] = plan.unmapped_reasons
    assert note == (
        f"timm model {IN21K} has a head of 21,843 classes, not ImageNet-1k's 1000 classes in their "
        "order, so the class mapping cannot score it (the linear probe scores it alone, from its "
        f"features: its runs write no logits). Use a tag fine-tuned on ImageNet-1k: {FINE_TUNED}."
    )


def test_a_head_not_imagenet_1k_is_refused_for_the_class_mapping_alone():
    with pytest.raises(UserError) as caught:
        plan_workflow(_config(models=[IN21K], linear_probe=False))
    message = str(caught.value)
    assert "has a head of 21,843 classes" in message
    assert (
        "class mapping cannot score it (the linear probe could, from its features: turn "
        "linear_probe on)"
    ) in message
    assert message.endswith(f"Use a tag fine-tuned on ImageNet-1k: {FINE_TUNED}.")


def test_a_head_not_imagenet_1k_without_a_torch_variant_is_refused():
    with pytest.raises(UserError, match="scored by the linear probe alone .* add torch to runtime"):
        plan_workflow(_config(models=[IN21K], runtime=["onnxruntime"], linear_probe=True))
