# Report stage: what `snakemake --report results/report.html` shows beside the metrics and plots.


rule run_info:
    input:
        outputs=[PLAN.run_output_path(*run) for run in PLAN.runs],
        # Only after the metrics rule has verified every run file against the configuration,
        # so no run it refuses is reported here.
        verified="results/metrics.csv",
    output:
        report(
            "results/run_info.yaml",
            caption="../report/run_info.rst",
            category="Configuration and software",
        ),
    log:
        "logs/report/run_info.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        # The effective configuration: a change to it rewrites this file.
        configuration=config,
        # Each model collection in `models:` and the model names it expanded into.
        collections=PLAN.collection_record,
    script:
        "../scripts/run_info.py"


# The summary and the metrics as HTML pages: the report shows those inside itself (a CSV or
# Markdown file is only offered for download).
rule report_tables:
    input:
        metrics="results/metrics.csv",
    output:
        summary=report(
            "results/tables/summary.html",
            caption="../report/summary_table.rst",
            category="Results",
            subcategory="Tables",
        ),
        metrics=report(
            "results/tables/metrics.html",
            caption="../report/metrics_table.rst",
            category="Results",
            subcategory="Tables",
        ),
    log:
        "logs/report/report_tables.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/report_tables.py"
