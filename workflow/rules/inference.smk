# Inference stage: one job per (test set, model, variant) ->
# results/logits/{test_set}/{model}/{variant}.parquet and
# results/timing/{test_set}/{model}/{variant}.parquet (cifar_zeroshot.core.paths); with the linear
# probe on, the same pass also writes the penultimate features,
# results/features/{test_set}/{model}/{variant}/test.parquet. A CLIP model's job writes its image
# embeddings, results/embeddings/{test_set}/..., instead of logits. The test set is a wildcard:
# every registered set (data.test_sets) runs through these rules, its image set and limit looked
# up in the registry and the plan. Only the image set (and, for onnxruntime variants, the model's
# ONNX export: checked_export_inputs, common.smk) is an input: editing the class mapping, the
# probe's settings or the metrics never reruns a model; editing CIFAR-10-C's corruption list
# changes its image set alone.

from cifar_zeroshot.models.family_registry import EMBEDDINGS_SLUG_PATTERN, LOGITS_SLUG_PATTERN
from cifar_zeroshot.core.variants import VARIANT_NAME_PATTERN

# Wildcard patterns of the rule's outputs, named once.
RUN = {"test_set": "{test_set}", "model": "{model}", "variant": "{variant}"}


rule inference:
    input:
        unpack(checked_export_inputs),
        # A user's weights file (none for published weights): a changed file reruns its jobs.
        unpack(lambda wc: PLAN.weights_file_input(wc.model)),
        test_set=test_images,
    output:
        logits=run_output_path("logits", **RUN),
        timing=timing_path(**RUN),
    log:
        inference_log_path(**RUN),
    wildcard_constraints:
        test_set=TEST_SET_PATTERN,
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
        # Its path, digest and preprocessing source (None for published weights).
        weights_file=lambda wc: PLAN.weights_file_params(wc.model),
        dataset=config["dataset"],
        batch_size=config["batch_size"],
        device=config["device"],
        # The first N images of the set (config limit or shift_limit; CIFAR-10-C's selection
        # is already cut per block).
        limit=lambda wc: PLAN.test_sets.run_limit(wc.test_set),
        # A selection of blocks (CIFAR-10-C's) is checked to be one before the model runs.
        blocked=lambda wc: test_set_entry(wc.test_set).blocks,
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
            logits=run_output_path("logits", **RUN),
            timing=timing_path(**RUN),
            features=test_features_path(**RUN),
        wildcard_constraints:
            test_set=TEST_SET_PATTERN,
            model=PROBED_MODEL_PATTERN,
            variant=PROBE_VARIANT_PATTERN,


# A model the linear probe alone scores (a timm head that is not ImageNet-1k's): its test
# features and timing, no logits (planning.ModelChoice.probe_only). ruleorder makes this rule
# take its runs from the two above; its wildcard constraints keep it off every other run.
if PLAN.probe_only_models:

    ruleorder: inference_probe_only > inference_with_features > inference

    use rule inference as inference_probe_only with:
        output:
            features=test_features_path(**RUN),
            timing=timing_path(**RUN),
        wildcard_constraints:
            test_set=TEST_SET_PATTERN,
            model=PROBE_ONLY_MODEL_PATTERN,
            variant=PROBE_VARIANT_PATTERN,


# A CLIP model's image side: the same job, writing unit image embeddings (clip_text.smk encodes
# the prompts; the metrics compare the two, so a prompt edit never reruns this).
use rule inference as clip_inference with:
    input:
        test_set=test_images,
    output:
        embeddings=run_output_path("embeddings", **RUN),
        timing=timing_path(**RUN),
    wildcard_constraints:
        test_set=TEST_SET_PATTERN,
        model=EMBEDDINGS_SLUG_PATTERN,
        variant=VARIANT_NAME_PATTERN,
