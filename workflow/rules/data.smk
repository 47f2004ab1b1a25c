# Data stage: the CIFAR-10 binary archive (or a synthetic stand-in) -> data/{dataset}/test_set.npz
# and, for the linear probe, data/{dataset}/train_set.npz.

from cifar_zeroshot.data import archive
from cifar_zeroshot.data.checksums import md5_sidecar_path

_SYNTHETIC_ARCHIVE = f"data/synthetic/{archive.CIFAR10_ARCHIVE_NAME}"
_SYNTHETIC_MD5 = str(md5_sidecar_path(_SYNTHETIC_ARCHIVE))


# What test_set reads per dataset: the archive, and for synthetic the sidecar holding its
# expected MD5 (the real archive's MD5 and size are fixed constants).
_TEST_SET_INPUT = {
    "cifar10": {"archive": archive.CIFAR10_ARCHIVE_PATH},
    "synthetic": {
        "archive": _SYNTHETIC_ARCHIVE,
        "md5": _SYNTHETIC_MD5,
    },
}
_TEST_SET_CHECKSUM = {
    "cifar10": (archive.CIFAR10_MD5, archive.CIFAR10_ARCHIVE_BYTES),
    "synthetic": (None, None),
}
# What a rule that checks the test set reads (metrics): the .npz and, for synthetic, the
# sidecar with its archive's MD5, which the .npz must record.
TEST_SET_CHECK_INPUT = {
    dataset: {"test_set": f"data/{dataset}/test_set.npz"}
    | ({"archive_md5": inputs["md5"]} if "md5" in inputs else {})
    for dataset, inputs in _TEST_SET_INPUT.items()
}
TEST_SET_ARCHIVE_MD5 = {dataset: md5 for dataset, (md5, _) in _TEST_SET_CHECKSUM.items()}


# A user without network may place the archive at the output path; Snakemake then skips this
# rule and the checksum is still verified by test_set.
rule download_cifar10:
    output:
        archive.CIFAR10_ARCHIVE_PATH,
    log:
        "logs/data/download_cifar10.log",
    retries: 0
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        url=archive.CIFAR10_URL,
        md5=archive.CIFAR10_MD5,
        size=archive.CIFAR10_ARCHIVE_BYTES,
    script:
        "../scripts/download_cifar10.py"


rule synthetic_archive:
    output:
        archive=_SYNTHETIC_ARCHIVE,
        md5=_SYNTHETIC_MD5,
    log:
        "logs/data/synthetic_archive.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        images_per_class=config["synthetic_images_per_class"],
        train_images_per_class=config["synthetic_train_images_per_class"],
        seed=config["synthetic_seed"],
    script:
        "../scripts/make_synthetic_archive.py"


rule test_set:
    input:
        unpack(lambda wildcards: _TEST_SET_INPUT[wildcards.dataset]),
    output:
        "data/{dataset}/test_set.npz",
    log:
        "logs/data/test_set_{dataset}.log",
    wildcard_constraints:
        dataset="cifar10|synthetic",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        md5=lambda wildcards: _TEST_SET_CHECKSUM[wildcards.dataset][0],
        size=lambda wildcards: _TEST_SET_CHECKSUM[wildcards.dataset][1],
    script:
        "../scripts/prepare_image_set.py"


# The same archive, checked the same way; its five training batches.
use rule test_set as train_set with:
    output:
        "data/{dataset}/train_set.npz",
    log:
        "logs/data/train_set_{dataset}.log",
