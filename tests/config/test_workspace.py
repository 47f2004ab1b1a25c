"""cifar_zeroshot.config.workspace: the files a finished run keeps, which rule all asks for."""

from cifar_zeroshot.config.planning import ModelChoice, WorkflowPlan
from cifar_zeroshot.config.workspace import kept_intermediate_files
from cifar_zeroshot.core.variants import Variant

CLIP = ModelChoice("clip-ViT-B-32.openai", "DEFAULT", "clip:ViT-B-32/openai")


def test_every_kept_file_of_a_plan_with_the_probe_an_export_and_a_clip_model():
    plan = WorkflowPlan(
        models=(ModelChoice("alexnet", "DEFAULT"), CLIP),
        variants=(Variant.parse("fp32"), Variant.parse("fp32-onnxruntime")),
        image_count=40,
        probed_models=("alexnet",),
    )
    assert kept_intermediate_files(plan, "synthetic") == [
        "data/synthetic/test_set.npz",
        "results/class_mapping.csv",
        "results/class_mapping_summary.csv",
        "results/onnx/alexnet.onnx",
        "results/onnx/alexnet.onnx.json",
        "results/logits/cifar10/alexnet/fp32.parquet",
        "results/timing/cifar10/alexnet/fp32.parquet",
        "results/logits/cifar10/alexnet/fp32-onnxruntime.parquet",
        "results/timing/cifar10/alexnet/fp32-onnxruntime.parquet",
        # CLIP models run on torch only.
        f"results/embeddings/cifar10/{CLIP.name}/fp32.parquet",
        f"results/timing/cifar10/{CLIP.name}/fp32.parquet",
        "data/synthetic/train_set.npz",
        "results/features/alexnet/fp32/train.parquet",
        "results/features/alexnet/fp32/train_timing.parquet",
        # The fitted probe, which scores every test set.
        "results/probe/alexnet/fp32.fit.npz",
        "results/features/cifar10/alexnet/fp32/test.parquet",
        "results/probe/cifar10/alexnet/fp32.parquet",
        f"results/clip_text/{CLIP.name}.parquet",
    ]


def test_without_the_probe_no_training_files_are_kept():
    plan = WorkflowPlan((ModelChoice("alexnet", "none"),), (Variant.parse("fp32"),), 40)
    kept = kept_intermediate_files(plan, "cifar10")
    assert "data/cifar10/test_set.npz" in kept
    assert not [path for path in kept if "train" in path or "onnx" in path]
