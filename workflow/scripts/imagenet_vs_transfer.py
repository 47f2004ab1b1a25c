"""Snakemake adapter: results/leaderboard.csv -> results/plots/imagenet_vs_transfer.png."""

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv, reference_rows
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.plot_parts import save_figure
from cifar_zeroshot.report.provenance import provenance_note
from cifar_zeroshot.report.transfer_plot import imagenet_vs_transfer_figure, read_transfer_table

with job_log(snakemake.log[0], snakemake.output):
    # The figure is CIFAR-10's; metrics.csv says which images and weights it was made from.
    metrics = reference_rows(read_metrics_csv(snakemake.input.metrics))
    table = read_transfer_table(snakemake.input.leaderboard)
    figure = imagenet_vs_transfer_figure(table)
    save_figure(figure, snakemake.output[0], provenance_note(metrics))
