"""Snakemake adapter: the configuration and software versions -> results/run_info.yaml."""

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.report.run_info import collect_run_info, write_run_info

with job_log(snakemake.log[0], snakemake.output):
    info = collect_run_info(snakemake.config, snakemake.input.outputs, snakemake.params.collections)
    write_run_info(snakemake.output[0], info)
