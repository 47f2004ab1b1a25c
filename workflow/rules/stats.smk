# Statistics figures: the paired comparisons and the reliability diagram (from the metrics job's
# paired_tests.csv and reliability.csv), and with the linear probe the few-shot curves.


rule paired_plot:
    input:
        metrics="results/metrics.csv",
        paired="results/paired_tests.csv",
    output:
        report(
            "results/plots/paired_differences.png",
            caption="../report/paired_differences.rst",
            category="Results",
            subcategory="Accuracy",
        ),
    log:
        "logs/plots/paired_plot.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/paired_plot.py"


rule reliability_plot:
    input:
        metrics="results/metrics.csv",
        reliability="results/reliability.csv",
    output:
        report(
            "results/plots/reliability.png",
            caption="../report/reliability_plot.rst",
            category="Results",
            subcategory="Calibration",
        ),
    log:
        "logs/plots/reliability_plot.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/reliability_plot.py"


# With the linear probe: the probe refitted on k training images per class, several draws,
# from the stored features (no model reruns); its strength where k is too small to hold images
# out is the full probe's, hence the probe file as an input.
rule few_shot:
    input:
        train_features=rules.train_features.output.features,
        train_timing=rules.train_features.output.timing,
        test_features=test_features_path(**PROBED_CIFAR10),
        test_timing=timing_path(**PROBED_CIFAR10),
        train_set=train_images_path(config["dataset"]),
        probe=rules.linear_probe.output[0],
    output:
        few_shot_path(**PROBED),
    log:
        "logs/few_shot/{model}/{variant}.log",
    wildcard_constraints:
        model=PROBED_MODEL_PATTERN,
        variant=PROBE_VARIANT_PATTERN,
    conda:
        "../envs/benchmark.yaml"
    threads: config["threads"]
    resources:
        mem_mb=config["inference_mem_mb"],
        runtime=config["inference_runtime_min"],
    params:
        few_shot=PLAN.few_shot.to_params() if PLAN.few_shot else {},
        probe=PLAN.probe_request.settings.to_params(),
    script:
        "../scripts/few_shot.py"


rule few_shot_plot:
    input:
        metrics="results/metrics.csv",
        few_shot=[few_shot_path(*run) for run in PROBE_RUNS],
    output:
        report(
            "results/plots/few_shot.png",
            caption="../report/few_shot.rst",
            category="Results",
            subcategory="Accuracy",
        ),
    log:
        "logs/plots/few_shot_plot.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/few_shot_plot.py"
