"""Snakemake adapter: the configuration and software versions -> results/run_info.yaml."""

from cifar_zeroshot.run_info import collect_run_info, write_run_info
from cifar_zeroshot.script_support import run_reporting_user_errors

run_reporting_user_errors(
    lambda: write_run_info(
        snakemake.output[0], collect_run_info(snakemake.config, snakemake.input.logits)
    ),
    snakemake.log[0],
)
