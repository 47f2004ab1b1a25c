# Plots stage: metrics CSVs -> results/plots/*.png (one class_mapping confusion matrix per MODEL_RUNS
# entry).
# `snakemake results/plots/speed.png` runs this rule, which draws every figure (seconds).


rule plots:
    input:
        metrics="results/metrics.csv",
        per_class="results/per_class.csv",
        confusion="results/confusion.csv",
        per_class_poolings="results/per_class_poolings.csv",
        # A failed run's confusion file says it failed (metrics.smk lists the failed runs).
        failed_runs="results/failed_runs.csv",
    output:
        speed=report(
            "results/plots/speed.png",
            caption="../report/speed.rst",
            category="Results",
            subcategory="Speed and memory",
        ),
        memory=report(
            "results/plots/memory.png",
            caption="../report/memory.rst",
            category="Results",
            subcategory="Speed and memory",
        ),
        accuracy=report(
            "results/plots/accuracy.png",
            caption="../report/accuracy.rst",
            category="Results",
            subcategory="Accuracy",
        ),
        per_class=report(
            "results/plots/per_class.png",
            caption="../report/per_class_plot.rst",
            category="Results",
            subcategory="Accuracy",
        ),
        per_class_balanced=report(
            "results/plots/per_class_balanced.png",
            caption="../report/per_class_balanced.rst",
            category="Results",
            subcategory="Accuracy",
        ),
        accuracy_vs_speed=report(
            "results/plots/accuracy_vs_speed.png",
            caption="../report/accuracy_vs_speed.rst",
            category="Results",
            subcategory="Accuracy",
        ),
        accuracy_vs_gflops=report(
            "results/plots/accuracy_vs_gflops.png",
            caption="../report/accuracy_vs_gflops.rst",
            category="Results",
            subcategory="Accuracy",
        ),
        confusion=[
            report(
                f"results/plots/confusion/{model}-{variant}.png",
                caption="../report/confusion_plot.rst",
                category="Confusion matrices",
                subcategory=model,
                labels={"model": model, "variant": variant},
            )
            for model, variant in MODEL_RUNS
        ],
    log:
        "logs/plots/plots.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        runs=[[model, variant] for model, variant in MODEL_RUNS],
    script:
        "../scripts/plots.py"


# Only with the linear probe on (rule all asks for it then).
rule probe_plot:
    input:
        metrics="results/metrics.csv",
    output:
        report(
            "results/plots/probe_vs_zero_shot.png",
            caption="../report/probe_vs_zero_shot.rst",
            category="Results",
            subcategory="Accuracy",
        ),
    log:
        "logs/plots/probe_plot.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/probe_plot.py"


# CIFAR-10 top-1 against each model's published ImageNet-1k top-1 (the leaderboard's
# published_imagenet_top1 column, empty where no figure is published).
rule imagenet_vs_transfer:
    input:
        metrics="results/metrics.csv",
        leaderboard="results/leaderboard.csv",
    output:
        report(
            "results/plots/imagenet_vs_transfer.png",
            caption="../report/imagenet_vs_transfer.rst",
            category="Results",
            subcategory="Accuracy",
        ),
    log:
        "logs/plots/imagenet_vs_transfer.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/imagenet_vs_transfer.py"
