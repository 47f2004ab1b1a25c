# Inference stage: one job per (model, variant) -> results/logits/{model}/{variant}.parquet and
# results/timing/{model}/{variant}.parquet; with the linear probe on, the same pass also writes
# the penultimate features, results/features/{model}/{variant}/test.parquet. A CLIP model's job
# writes its image embeddings, results/embeddings/{model}/{variant}.parquet, instead of logits.
# Needs MODEL_WEIGHTS ({model name: weights string}) and PLAN from common.smk. Only the test set
# (and, for onnxruntime variants, the model's ONNX export: checked_export_inputs, common.smk) is
# an input: editing the class mapping, the probe's settings or the metrics never reruns a model.

from cifar_zeroshot.models.family_registry import EMBEDDINGS_SLUG_PATTERN, LOGITS_SLUG_PATTERN
from cifar_zeroshot.core.variants import VARIANT_NAME_PATTERN


rule inference:
    input:
        unpack(checked_export_inputs),
        test_set=f"data/{config['dataset']}/test_set.npz",
    output:
        logits="results/logits/{model}/{variant}.parquet",
        timing="results/timing/{model}/{variant}.parquet",
    log:
        "logs/inference/{model}/{variant}.log",
    wildcard_constraints:
        # the slugs of the families whose runs write logits (torchvision, timm)
        model=LOGITS_SLUG_PATTERN,
        variant=VARIANT_NAME_PATTERN,
    conda:
        "../envs/benchmark.yaml"
    threads: config["threads"]
    resources:
        # A GPU is a resource only when one may be used: with device cpu, jobs must neither
        # queue for one (--resources gpu=1) nor request one from SLURM.
        gpu=0 if config["device"] == "cpu" else 1,
        mem_mb=config["inference_mem_mb"],
        runtime=config["inference_runtime_min"],
    params:
        # KeyError naming the model when it is not in the config's models list.
        weights=lambda wc: MODEL_WEIGHTS[wc.model],
        dataset=config["dataset"],
        batch_size=config["batch_size"],
        device=config["device"],
        limit=config["limit"],
        warmup_batches=config["warmup_batches"],
        # Node-local flocks that give each concurrent job its own GPU (see gpu_slots.py).
        gpu_lock_dir="logs/gpu_locks",
        gpu_wait_seconds=config["gpu_wait_seconds"],
    script:
        "../scripts/inference.py"


# The runs the probe reads (PLAN.probe_runs) also write their features. ruleorder makes this
# rule take those runs; its wildcard constraints keep it off every other run.
if PLAN.probe_runs:

    ruleorder: inference_with_features > inference

    use rule inference as inference_with_features with:
        output:
            logits="results/logits/{model}/{variant}.parquet",
            timing="results/timing/{model}/{variant}.parquet",
            features="results/features/{model}/{variant}/test.parquet",
        wildcard_constraints:
            model=PROBED_MODEL_PATTERN,
            variant=PROBE_VARIANT_PATTERN,


# A model the linear probe alone scores (a timm head that is not ImageNet-1k's): its test
# features and timing, no logits (planning.ModelChoice.probe_only). ruleorder makes this rule
# take its runs from the two above; its wildcard constraints keep it off every other run.
if PLAN.probe_only_models:

    ruleorder: inference_probe_only > inference_with_features > inference

    use rule inference as inference_probe_only with:
        output:
            features="results/features/{model}/{variant}/test.parquet",
            timing="results/timing/{model}/{variant}.parquet",
        wildcard_constraints:
            model=PROBE_ONLY_MODEL_PATTERN,
            variant=PROBE_VARIANT_PATTERN,


# A CLIP model's image side: the same job, writing unit image embeddings (clip_text.smk encodes
# the prompts; the metrics compare the two, so a prompt edit never reruns this).
use rule inference as clip_inference with:
    input:
        test_set=f"data/{config['dataset']}/test_set.npz",
    output:
        embeddings="results/embeddings/{model}/{variant}.parquet",
        timing="results/timing/{model}/{variant}.parquet",
    wildcard_constraints:
        model=EMBEDDINGS_SLUG_PATTERN,
        variant=VARIANT_NAME_PATTERN,
