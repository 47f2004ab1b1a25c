# Data stage: the CIFAR-10 binary archive (or a synthetic stand-in) -> data/{dataset}/test_set.npz.

from cifar_zeroshot import dataset as cifar_dataset


# What test_set reads per dataset: the archive, and for synthetic the sidecar holding its
# expected MD5 (the real archive's MD5 and size are fixed constants).
_TEST_SET_INPUT = {
    "cifar10": {"archive": cifar_dataset.CIFAR10_ARCHIVE_PATH},
    "synthetic": {
        "archive": "data/synthetic/cifar-10-binary.tar.gz",
        "md5": "data/synthetic/cifar-10-binary.tar.gz.md5",
    },
}
_TEST_SET_CHECKSUM = {
    "cifar10": (cifar_dataset.CIFAR10_MD5, cifar_dataset.CIFAR10_ARCHIVE_BYTES),
    "synthetic": (None, None),
}


# A user without network may place the archive at the output path; Snakemake then skips this
# rule and the checksum is still verified by test_set.
rule download_cifar10:
    output:
        cifar_dataset.CIFAR10_ARCHIVE_PATH,
    log:
        "logs/data/download_cifar10.log",
    params:
        url=cifar_dataset.CIFAR10_URL,
        md5=cifar_dataset.CIFAR10_MD5,
        size=cifar_dataset.CIFAR10_ARCHIVE_BYTES,
    localrule: True
    retries: 0
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/download_cifar10.py"


rule synthetic_archive:
    output:
        archive="data/synthetic/cifar-10-binary.tar.gz",
        md5="data/synthetic/cifar-10-binary.tar.gz.md5",
    log:
        "logs/data/synthetic_archive.log",
    params:
        images_per_class=config.get("synthetic_images_per_class", 30),
        seed=config.get("synthetic_seed", 0),
    localrule: True
    conda:
        "../envs/benchmark.yaml"
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
    params:
        md5=lambda wildcards: _TEST_SET_CHECKSUM[wildcards.dataset][0],
        size=lambda wildcards: _TEST_SET_CHECKSUM[wildcards.dataset][1],
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/prepare_test_set.py"
