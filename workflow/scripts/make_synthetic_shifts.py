"""Snakemake adapter: write the synthetic stand-ins of CIFAR-10.1 (rule synthetic_cifar10_1) or
CIFAR-10-C (rule synthetic_cifar10_c, from the synthetic archive's test batch)."""

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.data.archive import read_test_batch
from cifar_zeroshot.data.synthetic_shifts import (
    write_synthetic_cifar10_1,
    write_synthetic_cifar10_c,
)

with job_log(snakemake.log[0], snakemake.output):
    params, output = snakemake.params, snakemake.output
    if snakemake.rule == "synthetic_cifar10_1":
        write_synthetic_cifar10_1(output.data, output.labels, params.images_per_class, params.seed)
    else:
        images, labels = read_test_batch(snakemake.input.archive, generated=True)
        write_synthetic_cifar10_c(output.archive, images, labels, params.seed)
