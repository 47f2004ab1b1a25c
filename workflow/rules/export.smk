# Export stage: each model that a variant runs on ONNX Runtime -> results/onnx/{model}.onnx (one
# file per model and weights, fp32, dynamic batch) and its record {model}.onnx.json (size,
# SHA-256). Needs PLAN and MODEL_WEIGHTS (common.smk). Its only trigger is the model (the
# wildcard) and its resolved weights (a param): batch size, limit or precision never re-export.

from cifar_zeroshot.models.torchvision_catalog import resolved_weights_label
from cifar_zeroshot.runtimes.onnx_file import EXPORT_PATH, remove_damaged_exports

# A damaged export (size or digest unlike its record) is deleted before the job graph is built,
# so that the next job that needs it finds it missing and it is exported first; never in a
# job's own process (cluster jobs parse this file too), which may run beside an export.
if workflow.is_main_process and any(v.runtime == "onnxruntime" for v in PLAN.variants):
    exports = [Path(EXPORT_PATH.format(model=choice.name)) for choice in PLAN.models]
    for removed in remove_damaged_exports(exports):
        print(f"WARNING: {removed}", file=sys.stderr)


rule export_onnx:
    output:
        model=EXPORT_PATH,
        record=f"{EXPORT_PATH}.json",
    log:
        "logs/export/{model}.log",
    wildcard_constraints:
        model=r"[a-z0-9_]+",
    conda:
        "../envs/benchmark.yaml"
    threads: config["threads"]
    resources:
        mem_mb=config["inference_mem_mb"],
        runtime=config["inference_runtime_min"],
    params:
        # Resolved ("DEFAULT" -> "ResNet50_Weights.IMAGENET1K_V2"): other weights re-export,
        # another spelling of the same ones does not.
        weights=lambda wc: resolved_weights_label(wc.model, MODEL_WEIGHTS[wc.model]),
    script:
        "../scripts/export_onnx.py"
