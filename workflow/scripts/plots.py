"""Snakemake adapter: metrics CSVs -> the PNG figures under results/plots."""

from pathlib import Path

from cifar_zeroshot.analysis.balancing_tables import read_per_class_poolings
from cifar_zeroshot.analysis.metrics_tables import (
    read_metrics_csv,
    read_reference_rows,
    reference_rows,
)
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report import plots
from cifar_zeroshot.report.balanced_plot import per_class_balanced_figure
from cifar_zeroshot.report.complexity_plot import accuracy_vs_gflops_figure
from cifar_zeroshot.report.failed_runs import failed_run_names
from cifar_zeroshot.report.plot_parts import remove_stale_pngs, save_figure, zero_shot_method
from cifar_zeroshot.report.provenance import images_name, provenance_note

with job_log(snakemake.log[0], snakemake.output):
    # The per-run figures describe CIFAR-10 (robustness_plots draws the shifted sets).
    metrics = reference_rows(read_metrics_csv(snakemake.input.metrics))
    out = snakemake.output
    note = provenance_note(metrics)  # synthetic images, untrained weights: said on every figure
    save_figure(plots.speed_figure(metrics), out.speed, note)
    save_figure(plots.memory_figure(metrics), out.memory, note)
    save_figure(plots.accuracy_figure(metrics), out.accuracy, note)
    save_figure(plots.accuracy_vs_speed_figure(metrics), out.accuracy_vs_speed, note)
    save_figure(accuracy_vs_gflops_figure(metrics), out.accuracy_vs_gflops, note)
    per_class = plots.per_class_figure(read_reference_rows(snakemake.input.per_class))
    save_figure(per_class, out.per_class, note)
    per_class_poolings = reference_rows(read_per_class_poolings(snakemake.input.per_class_poolings))
    balanced = per_class_balanced_figure(per_class_poolings, images_name(metrics))
    save_figure(balanced, out.per_class_balanced, note)
    confusion = read_reference_rows(snakemake.input.confusion)
    # One matrix per run (plots.smk lists these files), for the run's zero-shot method.
    failed = failed_run_names(snakemake.input.failed_runs)
    for (model, variant), path in zip(snakemake.params.runs, out.confusion, strict=True):
        if (model, variant) in failed:  # its job failed: the file says so instead
            save_figure(plots.failed_run_figure(model, variant, failed[model, variant]), path, note)
            continue
        method = zero_shot_method(confusion, model, variant)
        save_figure(plots.confusion_figure(confusion, model, variant, method), path, note)
    if out.confusion:  # the matrices of runs no longer configured must not look current
        remove_stale_pngs(Path(out.confusion[0]).parent, out.confusion)
