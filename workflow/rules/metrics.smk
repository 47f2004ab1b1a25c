# Metrics stage: every run's stored logits and timing -> accuracy tables (per model, variant and
# scoring method) and results/summary.md. Needs RUNS (list of (model, variant) tuples) from the
# Snakefile; never reruns inference.


rule metrics:
    input:
        logits=[f"results/logits/{model}/{variant}.parquet" for model, variant in RUNS],
        timing=[f"results/timing/{model}/{variant}.parquet" for model, variant in RUNS],
        mapping="results/class_mapping.csv",
    output:
        metrics=report("results/metrics.csv", caption="../report/metrics.rst", category="Metrics"),
        per_class=report(
            "results/per_class.csv", caption="../report/per_class.rst", category="Metrics"
        ),
        confusion=report(
            "results/confusion.csv", caption="../report/confusion.rst", category="Metrics"
        ),
        top_confusions=report(
            "results/top_confusions.csv",
            caption="../report/top_confusions.rst",
            category="Metrics",
        ),
        summary=report("results/summary.md", caption="../report/summary.rst", category="Metrics"),
    log:
        "logs/metrics/metrics.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        pooling=config["pooling"],
    script:
        "../scripts/metrics.py"
