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


def removed_stale_summaries(wildcards):
    """No input: removes, once, every table or figure over all runs that this configuration does
    not ask for (the robustness files without a shifted set, the probe's figures without the
    probe...), so none is left beside the current files as if it were one of them. Called while
    the job graph is built, when a dry run is known (it then only says so), before any job runs.
    """
    if workflow.is_main_process and not _SUMMARIES_CHECKED:
        _SUMMARIES_CHECKED.append(True)
        summaries = [CORRUPTION_SEVERITY_PLOT] + [
            str(path)
            for rule_ in workflow.rules
            for path in rule_.output
            if str(path).startswith("results/") and not path.contains_wildcard()
        ]
        asked = [str(path) for path in rules.all.input if isinstance(path, str)]
        keep = workflow.executor_plugin is None or workflow.dryrun or workflow.touch
        for message in remove_outputs_not_asked_for(summaries, asked, dry_run=keep):
            print(f"NOTE: {message}", file=sys.stderr)
    return []


_SUMMARIES_CHECKED = []


rule all:
    default_target: True
    input:
        rules.metrics.output,
        # The figures of CIFAR-10's runs: without it (user sets alone), left out (a warning).
        rules.plots.output if PLAN.test_sets.has_reference else [],
        rules.run_info.output,
        rules.report_tables.output,
        rules.probe_plot.output if PROBE_RUNS else [],
        rules.paired_plot.output if PLAN.test_sets.has_reference else [],
        rules.reliability_plot.output if PLAN.test_sets.has_reference else [],
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
