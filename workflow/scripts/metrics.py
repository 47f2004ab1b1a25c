"""Snakemake adapter: stored run outputs + timing -> metrics CSVs, results/summary.md and the
statistics page (analysis.metrics_job computes them, report.metrics_job writes them)."""

from cifar_zeroshot.analysis.metrics_job import compute_metrics
from cifar_zeroshot.config.user_test_sets import register_configured_sets
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.metrics_job import write_metrics_outputs

with job_log(snakemake.log[0], snakemake.output):
    register_configured_sets(snakemake.config)  # the registry is per process
    write_metrics_outputs(compute_metrics(snakemake.input, snakemake.params), snakemake.output)
