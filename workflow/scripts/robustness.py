"""Snakemake adapter: metrics.csv -> results/robustness.csv and the two robustness figures."""

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv
from cifar_zeroshot.analysis.robustness import robustness_table
from cifar_zeroshot.config.user_test_sets import register_configured_sets
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.plot_parts import save_figure
from cifar_zeroshot.report.provenance import images_name, provenance_note
from cifar_zeroshot.report.robustness_plots import (
    corruption_severity_figure,
    effective_robustness_figure,
)
from cifar_zeroshot.report.robustness_section import write_robustness_csv

with job_log(snakemake.log[0], snakemake.output):
    register_configured_sets(snakemake.config)  # the registry is per process
    metrics = read_metrics_csv(snakemake.input.metrics)
    out = snakemake.output
    note = provenance_note(metrics)  # synthetic images, untrained weights: said on each figure
    images = images_name(metrics)
    table = robustness_table(metrics)
    write_robustness_csv(table, out.robustness)
    save_figure(effective_robustness_figure(table, images), out.effective_robustness, note)
    # Namedlist's `in` tests values, not names, hence .get.
    if out.get("corruption_severity"):
        save_figure(corruption_severity_figure(metrics, images), out.corruption_severity, note)
