"""Snakemake adapter: results/metrics.csv -> the summary and metrics tables as HTML pages that the
report shows inside itself."""

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv, reference_rows
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.html_pages import metrics_html, summary_html, write_html

with job_log(snakemake.log[0], snakemake.output):
    metrics = read_metrics_csv(snakemake.input.metrics)
    write_html(summary_html(reference_rows(metrics)), snakemake.output.summary)  # CIFAR-10
    write_html(metrics_html(metrics), snakemake.output.metrics)
