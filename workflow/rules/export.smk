# Export stage: each model that a variant runs on ONNX Runtime (torchvision or timm) ->
# results/onnx/{model}.onnx (one file per model and weights, fp32, dynamic batch) and its record {model}.onnx.json (size,
# SHA-256). Needs PLAN and MODEL_WEIGHTS (common.smk). Its only trigger is the model (the
# wildcard) and its resolved weights (a param; a user's weights file also an input): batch
# size, limit or precision never re-export.

from cifar_zeroshot.models.export_weights import export_weights
from cifar_zeroshot.models.family_registry import EXPORT_SLUG_PATTERN
from cifar_zeroshot.runtimes.onnx_file import EXPORT_PATH, QUANTISED_PATH

# A damaged export is deleted while the jobs that read it are planned (checked_export_inputs
# and checked_source_export, common.smk), so that it is exported again first.


rule export_onnx:
    input:
        # A user's weights file (none for published weights): a changed file re-exports.
        unpack(lambda wc: PLAN.weights_file_input(wc.model)),
    output:
        model=EXPORT_PATH,
        record=f"{EXPORT_PATH}.json",
    log:
        "logs/export/{model}.log",
    wildcard_constraints:
        # the slugs of the families exported to ONNX (torchvision, timm)
        model=EXPORT_SLUG_PATTERN,
    conda:
        "../envs/benchmark.yaml"
    threads: config["threads"]
    resources:
        mem_mb=config["inference_mem_mb"],
        runtime=config["inference_runtime_min"],
    params:
        # Resolved ("DEFAULT" -> "ResNet50_Weights.IMAGENET1K_V2", a timm model's tag): other
        # weights re-export, another spelling of the same ones does not.
        weights=lambda wc: export_weights(wc.model, MODEL_WEIGHTS[wc.model]),
        weights_file=lambda wc: PLAN.weights_file_params(wc.model),
    script:
        "../scripts/export_onnx.py"


# The export quantised to int8 (static, QDQ) -> results/onnx/{model}.int8.onnx and its record
# (calibration images, size, SHA-256), once per model and weights, for the int8 variant
# (onnxruntime). Calibrated on PLAN.calibration's images, which no run scores; a new fp32
# export (the model or its weights changed) quantises again. A damaged copy is deleted while
# the jobs that read it are planned, as an export is.
rule quantise_onnx:
    input:
        unpack(checked_source_export),
        unpack(lambda wc: PLAN.weights_file_input(wc.model)),
        calibration=lambda wc: PLAN.calibration.path,
    output:
        model=QUANTISED_PATH,
        record=f"{QUANTISED_PATH}.json",
    log:
        "logs/quantise/{model}.log",
    wildcard_constraints:
        model=EXPORT_SLUG_PATTERN,
    conda:
        "../envs/benchmark.yaml"
    threads: config["threads"]
    resources:
        mem_mb=config["inference_mem_mb"],
        runtime=config["inference_runtime_min"],
    params:
        weights=lambda wc: MODEL_WEIGHTS[wc.model],
        weights_file=lambda wc: PLAN.weights_file_params(wc.model),
        calibration=lambda wc: PLAN.calibration.to_params(),
    script:
        "../scripts/quantise_onnx.py"
