"""Snakemake adapter: write the deterministic synthetic stand-in archive and its .md5 sidecar."""

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.data.synthetic import write_synthetic_archive

with job_log(snakemake.log[0], snakemake.output):
    write_synthetic_archive(
        snakemake.output.archive,
        snakemake.params.images_per_class,
        snakemake.params.seed,
        train_images_per_class=snakemake.params.train_images_per_class,
    )
