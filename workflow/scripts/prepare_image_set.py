"""Snakemake adapter: verify an archive and save its test batch (or, for the rule train_set, its
five training batches) as data/<dataset>/test_set.npz (train_set.npz)."""

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.data.checksums import read_md5_sidecar
from cifar_zeroshot.data.image_set import ImageSet, prepare_image_set

with job_log(snakemake.log[0], snakemake.output):
    # The synthetic archive has no fixed checksum: it is checked against its sidecar instead.
    # (Namedlist's `in` tests values, not names, hence .get.)
    sidecar = snakemake.input.get("md5")
    expected_md5 = read_md5_sidecar(sidecar) if sidecar is not None else snakemake.params.md5
    prepare_image_set(
        snakemake.input.archive,
        expected_md5,
        snakemake.params.size,
        snakemake.output[0],
        ImageSet.TRAINING if snakemake.rule == "train_set" else ImageSet.TEST,
        md5_source=sidecar,
    )
