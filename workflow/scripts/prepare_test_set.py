"""Snakemake adapter: verify an archive and save its test batch as data/<dataset>/test_set.npz."""

from cifar_zeroshot.checksums import read_md5_sidecar
from cifar_zeroshot.job_log import job_log
from cifar_zeroshot.test_set import prepare_test_set

with job_log(snakemake.log[0], snakemake.output):
    # The synthetic archive has no fixed checksum: it is checked against its sidecar instead.
    # (Namedlist's `in` tests values, not names, hence .get.)
    sidecar = snakemake.input.get("md5")
    expected_md5 = read_md5_sidecar(sidecar) if sidecar is not None else snakemake.params.md5
    prepare_test_set(
        snakemake.input.archive,
        expected_md5,
        snakemake.params.size,
        snakemake.output[0],
        md5_source=sidecar,
    )
