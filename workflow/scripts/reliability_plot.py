"""Snakemake adapter: results/reliability.csv -> results/plots/reliability.png."""

from cifar_zeroshot.analysis.metrics_tables import (
    read_metrics_csv,
    read_reference_rows,
    reference_rows,
)
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.plot_parts import save_figure
from cifar_zeroshot.report.provenance import provenance_note
from cifar_zeroshot.report.reliability import reliability_figure

with job_log(snakemake.log[0], snakemake.output):
    # CIFAR-10's rows (reliability.csv holds every test set's bins): the diagram is CIFAR-10's.
    metrics = reference_rows(read_metrics_csv(snakemake.input.metrics))
    reliability = read_reference_rows(snakemake.input.reliability)
    figure = reliability_figure(reliability, metrics)
    save_figure(figure, snakemake.output[0], provenance_note(metrics))
