"""Snakemake adapter: results/reliability.csv -> results/plots/reliability.png."""

import pandas as pd

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv
from cifar_zeroshot.analysis.shifted_metrics import reference_rows
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.plot_parts import save_figure
from cifar_zeroshot.report.provenance import provenance_note
from cifar_zeroshot.report.reliability import reliability_figure

with job_log(snakemake.log[0], snakemake.output):
    # CIFAR-10's rows: the reliability bins are CIFAR-10's (analysis/reliability.py).
    metrics = reference_rows(read_metrics_csv(snakemake.input.metrics))
    reliability = pd.read_csv(snakemake.input.reliability, dtype={"variant": str})
    figure = reliability_figure(reliability, metrics)
    save_figure(figure, snakemake.output[0], provenance_note(metrics))
