"""Snakemake adapter: metrics CSVs -> the PNG figures under results/plots."""

import pandas as pd

from cifar_zeroshot import plots
from cifar_zeroshot.script_support import run_reporting_user_errors


def main() -> None:
    metrics = pd.read_csv(snakemake.input.metrics)
    out = snakemake.output
    plots.plot_speed(metrics, out.speed)
    plots.plot_memory(metrics, out.memory)
    plots.plot_accuracy(metrics, out.accuracy)
    plots.plot_accuracy_vs_speed(metrics, out.accuracy_vs_speed)
    plots.plot_per_class(pd.read_csv(snakemake.input.per_class), out.per_class)
    confusion = pd.read_csv(snakemake.input.confusion)
    for (model, variant), path in zip(snakemake.params.runs, out.confusion, strict=True):
        plots.plot_confusion(confusion, model, variant, path)


run_reporting_user_errors(main, snakemake.log[0])
