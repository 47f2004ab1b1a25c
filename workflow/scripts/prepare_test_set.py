"""Snakemake adapter: verify an archive and save its test batch as data/<dataset>/test_set.npz."""

from cifar_zeroshot import dataset
from cifar_zeroshot.script_support import run_reporting_user_errors


def main() -> None:
    # The synthetic archive has no fixed checksum: it is checked against its sidecar instead.
    # (Namedlist's `in` tests values, not names, hence .get.)
    sidecar = snakemake.input.get("md5")
    if sidecar is not None:
        expected_md5 = dataset.read_md5_sidecar(sidecar)
    else:
        expected_md5 = snakemake.params.md5
    dataset.prepare_test_set(
        snakemake.input.archive, expected_md5, snakemake.params.size, snakemake.output[0]
    )


run_reporting_user_errors(main, snakemake.log[0])
