# CLIP text stage: for each CLIP model, its class prompts (config clip_prompts) encoded by its
# text tower -> results/clip_text/{model}.parquet, one ensembled unit embedding per CIFAR-10
# class. Editing the prompts reruns this and the metrics, never an image job.


rule clip_text:
    input:
        prompts=config["clip_prompts"],
    output:
        "results/clip_text/{model}.parquet",
    log:
        "logs/clip_text/{model}.log",
    wildcard_constraints:
        model=EMBEDDINGS_SLUG_PATTERN,
    conda:
        "../envs/benchmark.yaml"
    threads: config["threads"]
    resources:
        mem_mb=config["inference_mem_mb"],
        runtime=config["inference_runtime_min"],
    params:
        weights=lambda wc: MODEL_WEIGHTS[wc.model],
    script:
        "../scripts/clip_text.py"
