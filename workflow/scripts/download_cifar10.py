"""Snakemake adapter: download the CIFAR-10 binary archive and verify its checksum."""

from cifar_zeroshot.download import download_archive
from cifar_zeroshot.job_log import job_log

with job_log(snakemake.log[0], snakemake.output):
    download_archive(
        snakemake.params.url,
        snakemake.output[0],
        snakemake.params.md5,
        snakemake.params.size,
    )
