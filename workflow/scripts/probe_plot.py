"""Snakemake adapter: metrics.csv -> results/plots/probe_vs_zero_shot.png."""

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv, reference_rows
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.plot_parts import save_figure
from cifar_zeroshot.report.probe_plot import probe_vs_zero_shot_figure
from cifar_zeroshot.report.provenance import provenance_note

with job_log(snakemake.log[0], snakemake.output):
    metrics = reference_rows(read_metrics_csv(snakemake.input.metrics))  # CIFAR-10's rows
    figure = probe_vs_zero_shot_figure(metrics)
    save_figure(figure, snakemake.output[0], provenance_note(metrics))
