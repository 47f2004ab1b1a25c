# Inference on the shifted test sets (config test_sets beyond cifar10): one job per (test set,
# model, variant), the same job as CIFAR-10's on another image set ->
# results/logits/{test_set}/{model}/{variant}.parquet (a CLIP model's: results/embeddings/...)
# and results/timing/{test_set}/{model}/{variant}.parquet. CIFAR-10's own files keep their paths.
# CIFAR-10-C's job scores every selected corruption and severity from one image set (rule
# cifar10_c_selection), so its model is loaded and compiled once; editing the corruption list
# changes that set alone, never a CIFAR-10 or CIFAR-10.1 job's inputs or params. Probed runs also
# write the set's test features, results/features/{test_set}/{model}/{variant}/test.parquet, which
# the probe fitted on CIFAR-10 scores (probe.smk, rule shifted_probe).

from cifar_zeroshot.core.choices import CIFAR10_1, CIFAR10_C
from cifar_zeroshot.config.shifted_sets import (
    selection_table_path,
    shifted_block_paths,
    shifted_features_path,
    shifted_images_path,
    shifted_probe_path,
    shifted_timing_path,
)

SHIFTED_SET_PATTERN = "|".join(map(re.escape, (CIFAR10_1, CIFAR10_C)))
# Rule all asks for these by name, as for CIFAR-10's runs.
SHIFTED_FILES = [
    path
    for test_set, model, variant in PLAN.shifted_runs
    for path in (
        PLAN.shifted_output_path(test_set, model, variant),
        shifted_timing_path(test_set, model, variant),
    )
] + [
    path
    for run in PLAN.shifted_probe_runs
    for path in (shifted_features_path(*run), shifted_probe_path(*run))
]


if CIFAR10_C in PLAN.shift.test_sets:

    rule cifar10_c_selection:
        input:
            blocks=shifted_block_paths(config["dataset"], PLAN.shift),
        output:
            images=shifted_images_path(config["dataset"], CIFAR10_C),
            blocks=selection_table_path(config["dataset"]),
        log:
            "logs/data/cifar10-c_selection.log",
        localrule: True
        conda:
            "../envs/benchmark.yaml"
        params:
            blocks=[[c, s] for c, s in PLAN.shift.blocks()],
            limit=PLAN.shift.shift_limit,
        script:
            "../scripts/select_cifar10_c.py"


use rule inference as shifted_inference with:
    input:
        unpack(checked_export_inputs),
        test_set=lambda wc: shifted_images_path(config["dataset"], wc.test_set),
    output:
        logits="results/logits/{test_set}/{model}/{variant}.parquet",
        timing="results/timing/{test_set}/{model}/{variant}.parquet",
    log:
        "logs/inference/{test_set}/{model}/{variant}.log",
    wildcard_constraints:
        test_set=SHIFTED_SET_PATTERN,
        model=LOGITS_SLUG_PATTERN,
        variant=VARIANT_NAME_PATTERN,
    params:
        # CIFAR-10-C's selection is already cut to shift_limit per block.
        limit=lambda wc: PLAN.shift.shift_limit if wc.test_set == CIFAR10_1 else None,


# As for CIFAR-10 (inference.smk): the probed runs also write their features, and a model the
# probe alone scores writes features and timing, no logits.
if PLAN.probe_runs:

    ruleorder: shifted_inference_with_features > shifted_inference

    use rule shifted_inference as shifted_inference_with_features with:
        output:
            logits="results/logits/{test_set}/{model}/{variant}.parquet",
            timing="results/timing/{test_set}/{model}/{variant}.parquet",
            features="results/features/{test_set}/{model}/{variant}/test.parquet",
        wildcard_constraints:
            test_set=SHIFTED_SET_PATTERN,
            model=PROBED_MODEL_PATTERN,
            variant=PROBE_VARIANT_PATTERN,


if PLAN.probe_only_models:

    ruleorder: shifted_inference_probe_only > shifted_inference_with_features > shifted_inference

    use rule shifted_inference as shifted_inference_probe_only with:
        output:
            features="results/features/{test_set}/{model}/{variant}/test.parquet",
            timing="results/timing/{test_set}/{model}/{variant}.parquet",
        wildcard_constraints:
            test_set=SHIFTED_SET_PATTERN,
            model=PROBE_ONLY_MODEL_PATTERN,
            variant=PROBE_VARIANT_PATTERN,


use rule shifted_inference as shifted_clip_inference with:
    input:
        test_set=lambda wc: shifted_images_path(config["dataset"], wc.test_set),
    output:
        embeddings="results/embeddings/{test_set}/{model}/{variant}.parquet",
        timing="results/timing/{test_set}/{model}/{variant}.parquet",
    wildcard_constraints:
        test_set=SHIFTED_SET_PATTERN,
        model=EMBEDDINGS_SLUG_PATTERN,
        variant=VARIANT_NAME_PATTERN,
