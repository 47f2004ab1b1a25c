"""Snakemake adapter: the configured CIFAR-10-C blocks as one image set and its blocks.csv."""

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.data.shifted_selection import write_selection

with job_log(snakemake.log[0], snakemake.output):
    write_selection(
        [
            (corruption, severity, path)
            for (corruption, severity), path in zip(
                snakemake.params.blocks, snakemake.input.blocks, strict=True
            )
        ],
        snakemake.params.limit,
        snakemake.output.images,
        snakemake.output.blocks,
    )
