# Zero-shot benchmark of ImageNet-pretrained classifiers on CIFAR-10.
# Stages (one .smk each): data -> class mapping -> inference (one job per model and variant)
# -> linear probe (optional) -> metrics -> plots; `snakemake --report results/report.html`
# bundles them.
from snakemake.utils import min_version

min_version("9.0")


report: "workflow/report/workflow.rst"


# Set-up first: package path, configuration (validated against the schema) and the job plan.
include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/shifted_data.smk"
include: "workflow/rules/mapping.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/inference.smk"
include: "workflow/rules/probe.smk"
include: "workflow/rules/clip_text.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/robustness.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/stats.smk"


rule all:
    default_target: True
    input:
        rules.metrics.output,
        # The figures of each run, on CIFAR-10 (or, without it, the first test set listed).
        rules.plots.output,
        rules.run_info.output,
        rules.report_tables.output,
        rules.probe_plot.output if PROBE_RUNS else [],
        rules.paired_plot.output,
        # CIFAR-10 top-1 against published ImageNet top-1 (the leaderboard's column).
        rules.imagenet_vs_transfer.output,
        rules.reliability_plot.output,
        rules.few_shot_plot.output if PROBE_RUNS else [],
        rules.robustness.output if PLAN.test_sets.shifted else [],
        # Image sets, logits, timing, features, exports... of every test set (from the plan): a
        # missing one is rebuilt, not left missing behind up-to-date metrics.
        KEPT_FILES,
        removed_stale_summaries,


# Every folder a requested file goes into must be writable (or on a writable file system):
# refused now, not after Snakemake has deleted finished outputs that a job could not write again.
if workflow.is_main_process:
    try:
        folders = {str(Path(file).parent) for file in rules.all.input if isinstance(file, str)}
        check_output_folders(sorted(folders))
    except UserError as error:
        sys.exit(f"ERROR: {error}")
