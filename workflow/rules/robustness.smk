# Robustness stage (only with shifted test sets in config test_sets): metrics.csv ->
# results/robustness.csv (accuracy drops and effective robustness per run and method),
# results/plots/effective_robustness.png and, with CIFAR-10-C, corruption_severity.png.
# summary.md's robustness table is written by the metrics rule itself.


rule robustness:
    input:
        metrics="results/metrics.csv",
    output:
        **(
            {
                "corruption_severity": report(
                    CORRUPTION_SEVERITY_PLOT,
                    caption="../report/corruption_severity.rst",
                    category="Results",
                    subcategory="Robustness",
                )
            }
            if PLAN.test_sets.blocked
            else {}
        ),
        robustness=report(
            "results/robustness.csv",
            caption="../report/robustness.rst",
            category="Result files",
        ),
        effective_robustness=report(
            "results/plots/effective_robustness.png",
            caption="../report/effective_robustness.rst",
            category="Results",
            subcategory="Robustness",
        ),
    log:
        "logs/plots/robustness.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/robustness.py"
