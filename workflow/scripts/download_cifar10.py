"""Snakemake adapter: download the CIFAR-10 binary archive and verify its checksum."""

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.data.download import download_archive

with job_log(snakemake.log[0], snakemake.output):
    download_archive(
        snakemake.params.url,
        snakemake.output[0],
        snakemake.params.md5,
        snakemake.params.size,
    )
