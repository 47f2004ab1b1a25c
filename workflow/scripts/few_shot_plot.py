"""Snakemake adapter: the few-shot CSVs and metrics.csv -> results/plots/few_shot.png."""

from cifar_zeroshot.analysis.few_shot import read_few_shot
from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv, reference_rows
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.few_shot import few_shot_figure
from cifar_zeroshot.report.plot_parts import save_figure
from cifar_zeroshot.report.provenance import provenance_note

with job_log(snakemake.log[0], snakemake.output):
    metrics = read_metrics_csv(snakemake.input.metrics)
    # The few-shot probes score CIFAR-10: their zero-shot lines are CIFAR-10's rows.
    figure = few_shot_figure(read_few_shot(snakemake.input.few_shot), reference_rows(metrics))
    save_figure(figure, snakemake.output[0], provenance_note(metrics))
