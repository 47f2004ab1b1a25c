"""Snakemake adapter: download the CIFAR-10 binary archive and verify its checksum."""

from cifar_zeroshot import dataset
from cifar_zeroshot.script_support import run_reporting_user_errors

run_reporting_user_errors(
    lambda: dataset.download_archive(
        snakemake.params.url,
        snakemake.output[0],
        snakemake.params.md5,
        snakemake.params.size,
    ),
    snakemake.log[0],
)
