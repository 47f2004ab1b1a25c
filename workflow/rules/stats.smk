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
