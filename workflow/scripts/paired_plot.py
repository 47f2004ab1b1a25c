"""Snakemake adapter: results/paired_tests.csv -> results/plots/paired_differences.png."""

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv
from cifar_zeroshot.analysis.paired_tests import read_paired_tests_csv
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.paired_plot import FIGURE_COLUMNS, paired_differences_figure
from cifar_zeroshot.report.plot_parts import save_figure
from cifar_zeroshot.report.provenance import provenance_note

with job_log(snakemake.log[0], snakemake.output):
    metrics = read_metrics_csv(snakemake.input.metrics)
    paired = read_paired_tests_csv(snakemake.input.paired, FIGURE_COLUMNS)
    figure = paired_differences_figure(paired, metrics)
    save_figure(figure, snakemake.output[0], provenance_note(metrics))
