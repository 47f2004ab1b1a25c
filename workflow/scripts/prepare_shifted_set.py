"""Snakemake adapter: verify CIFAR-10.1's pair (rule cifar10_1_test_set) or one corruption of
CIFAR-10-C (rule cifar10_c_blocks) and keep it as image sets under data/<dataset>/."""

from pathlib import Path

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.data.checksums import read_md5_sidecar
from cifar_zeroshot.data.cifar10_1 import prepare_cifar10_1
from cifar_zeroshot.data.cifar10_c import extract_corruption
from cifar_zeroshot.data.image_set import ImageSet, load_image_set


def _expected(inputs, params, part: str) -> tuple[str, int | None, Path | None]:
    """(MD5, size, sidecar): the synthetic stand-ins are checked against their sidecars."""
    # Namedlist's `in` tests values, not names, hence .get.
    sidecar = inputs.get(f"{part}_md5")
    if sidecar is not None:
        return read_md5_sidecar(sidecar), None, Path(sidecar)
    return params.md5[part], params.size[part], None


with job_log(snakemake.log[0], snakemake.output):
    inputs, params, output = snakemake.input, snakemake.params, snakemake.output
    if snakemake.rule == "cifar10_1_test_set":
        checks = {part: _expected(inputs, params, part) for part in ("data", "labels")}
        prepare_cifar10_1(
            inputs.data,
            inputs.labels,
            {part: (md5, size) for part, (md5, size, _) in checks.items()},
            output[0],
            {part: sidecar for part, (_, _, sidecar) in checks.items() if sidecar is not None},
        )
    else:
        md5, size, sidecar = _expected(inputs, params, "archive")
        _, test_labels = load_image_set(inputs.test_set, ImageSet.TEST)
        extract_corruption(
            inputs.archive,
            md5,
            size,
            snakemake.wildcards.corruption,
            test_labels,
            dict(zip(params.severities, output, strict=True)),
            sidecar,
        )
