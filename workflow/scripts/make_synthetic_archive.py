"""Snakemake adapter: write the deterministic synthetic stand-in archive and its .md5 sidecar."""

from cifar_zeroshot import dataset
from cifar_zeroshot.script_support import run_reporting_user_errors

run_reporting_user_errors(
    lambda: dataset.write_synthetic_archive(
        snakemake.output.archive,
        snakemake.params.images_per_class,
        snakemake.params.seed,
    ),
    snakemake.log[0],
)
