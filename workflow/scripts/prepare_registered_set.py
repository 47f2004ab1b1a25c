"""Snakemake adapter: a registered test set's source files -> its image set (rule
registered_test_set)."""

from pathlib import Path

from cifar_zeroshot.config.user_test_sets import register_configured_sets
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.data.test_sets import build_registered_set

with job_log(snakemake.log[0], snakemake.output):
    register_configured_sets(snakemake.config)  # the registry is per process
    build_registered_set(
        snakemake.wildcards.test_set,
        {name: Path(path) for name, path in snakemake.input.items()},
        snakemake.output[0],
    )
