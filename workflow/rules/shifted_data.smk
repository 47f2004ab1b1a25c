# Shifted test sets' data: CIFAR-10.1's .npy pair and CIFAR-10-C's tar (downloaded, or synthetic
# stand-ins in the same formats) -> data/{dataset}/cifar10.1/test_set.npz and, per corruption,
# data/{dataset}/cifar10-c/{corruption}/severity{1..5}.npz, joined into the selection CIFAR-10-C's
# runs score. Only the corruptions the config selects are extracted (one job each), so editing
# that list extracts only the new ones. A registered set with a reader (data.test_sets) is built
# from its sources by the rule registered_test_set.

from cifar_zeroshot.core.choices import CIFAR10_C, CORRUPTIONS, SEVERITIES
from cifar_zeroshot.data import cifar10_1, cifar10_c
from cifar_zeroshot.data.test_sets import generic_test_sets

_SYNTHETIC_CIFAR10_1 = {
    "data": cifar10_1.SYNTHETIC_DATA_PATH,
    "labels": cifar10_1.SYNTHETIC_LABELS_PATH,
}
_SYNTHETIC_CIFAR10_C = cifar10_c.SYNTHETIC_ARCHIVE_PATH
# What each shifted set's preparation reads per dataset; the synthetic files' sidecars hold
# their expected MD5s (the real files' MD5s and sizes are fixed constants).
_CIFAR10_1_INPUT = {
    "cifar10": {"data": cifar10_1.DATA_PATH, "labels": cifar10_1.LABELS_PATH},
    "synthetic": _SYNTHETIC_CIFAR10_1
    | {f"{part}_md5": f"{path}.md5" for part, path in _SYNTHETIC_CIFAR10_1.items()},
}
_CIFAR10_C_INPUT = {
    "cifar10": {"archive": cifar10_c.ARCHIVE_PATH},
    "synthetic": {
        "archive": _SYNTHETIC_CIFAR10_C,
        "archive_md5": f"{_SYNTHETIC_CIFAR10_C}.md5",
    },
}
_CIFAR10_1_FILES = {
    "data": (cifar10_1.DATA_URL, cifar10_1.DATA_MD5, cifar10_1.DATA_BYTES),
    "labels": (cifar10_1.LABELS_URL, cifar10_1.LABELS_MD5, cifar10_1.LABELS_BYTES),
}


# As for CIFAR-10: a user without network may place the files at the output paths; Snakemake
# then skips these rules and the checksums are still verified before use.
rule download_cifar10_1:
    output:
        "data/cifar10.1_v6_{part}.npy",
    log:
        "logs/data/download_cifar10.1_{part}.log",
    wildcard_constraints:
        part="data|labels",
    retries: 0
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        url=lambda wildcards: _CIFAR10_1_FILES[wildcards.part][0],
        md5=lambda wildcards: _CIFAR10_1_FILES[wildcards.part][1],
        size=lambda wildcards: _CIFAR10_1_FILES[wildcards.part][2],
    script:
        "../scripts/download_cifar10.py"


rule download_cifar10_c:
    output:
        cifar10_c.ARCHIVE_PATH,
    log:
        "logs/data/download_cifar10_c.log",
    retries: 0
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        url=cifar10_c.URL,
        md5=cifar10_c.MD5,
        size=cifar10_c.ARCHIVE_BYTES,
    script:
        "../scripts/download_cifar10.py"


rule synthetic_cifar10_1:
    output:
        data=_SYNTHETIC_CIFAR10_1["data"],
        labels=_SYNTHETIC_CIFAR10_1["labels"],
        data_md5=f"{_SYNTHETIC_CIFAR10_1['data']}.md5",
        labels_md5=f"{_SYNTHETIC_CIFAR10_1['labels']}.md5",
    log:
        "logs/data/synthetic_cifar10_1.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        images_per_class=config["synthetic_images_per_class"],
        seed=config["synthetic_seed"],
    script:
        "../scripts/make_synthetic_shifts.py"


# Transforms of the synthetic archive's test batch, so labels.npy repeats its labels.
rule synthetic_cifar10_c:
    input:
        archive=_SYNTHETIC_ARCHIVE,
    output:
        archive=_SYNTHETIC_CIFAR10_C,
        md5=f"{_SYNTHETIC_CIFAR10_C}.md5",
    log:
        "logs/data/synthetic_cifar10_c.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        seed=config["synthetic_seed"],
    script:
        "../scripts/make_synthetic_shifts.py"


rule cifar10_1_test_set:
    input:
        unpack(lambda wildcards: _CIFAR10_1_INPUT[wildcards.dataset]),
    output:
        "data/{dataset}/cifar10.1/test_set.npz",
    log:
        "logs/data/cifar10.1_test_set_{dataset}.log",
    wildcard_constraints:
        dataset="cifar10|synthetic",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        md5={part: md5 for part, (_, md5, _) in _CIFAR10_1_FILES.items()},
        size={part: size for part, (_, _, size) in _CIFAR10_1_FILES.items()},
    script:
        "../scripts/prepare_shifted_set.py"


# labels.npy is checked against the dataset's own CIFAR-10 test labels.
rule cifar10_c_blocks:
    input:
        unpack(lambda wildcards: _CIFAR10_C_INPUT[wildcards.dataset]),
        test_set="data/{dataset}/test_set.npz",
    output:
        [
            f"data/{{dataset}}/cifar10-c/{{corruption}}/severity{severity}.npz"
            for severity in SEVERITIES
        ],
    log:
        "logs/data/cifar10-c_{dataset}_{corruption}.log",
    wildcard_constraints:
        dataset="cifar10|synthetic",
        corruption="|".join(CORRUPTIONS),
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        md5={"archive": cifar10_c.MD5},
        size={"archive": cifar10_c.ARCHIVE_BYTES},
        severities=list(SEVERITIES),
    script:
        "../scripts/prepare_shifted_set.py"


if PLAN.test_sets.blocked:

    # The selected blocks joined into one image set, and which of its rows hold which block: the
    # blocked set's runs score it in one job each, so the model is loaded and compiled once.
    rule cifar10_c_selection:
        input:
            blocks=[
                cifar10_c.block_path(config["dataset"], c, s) for c, s in PLAN.test_sets.blocks()
            ],
        output:
            images=test_set_entry(CIFAR10_C).images_path(config["dataset"]),
            blocks=blocks_table_path(config["dataset"], CIFAR10_C),
        log:
            "logs/data/cifar10-c_selection.log",
        localrule: True
        conda:
            "../envs/benchmark.yaml"
        params:
            blocks=[[c, s] for c, s in PLAN.test_sets.blocks()],
            limit=PLAN.test_sets.shift_limit,
        script:
            "../scripts/select_cifar10_c.py"


# A registered test set with a reader: its source files, read once into the workflow's own image
# set (the digest of what it was read from recorded in it).
if generic_test_sets():

    rule registered_test_set:
        input:
            unpack(lambda wc: test_set_entry(wc.test_set).sources(wc.dataset)),
        output:
            "data/{dataset}/{test_set}/test_set.npz",
        log:
            "logs/data/{test_set}_test_set_{dataset}.log",
        wildcard_constraints:
            dataset="cifar10|synthetic",
            test_set="|".join(re.escape(entry.name) for entry in generic_test_sets()),
        localrule: True
        conda:
            "../envs/benchmark.yaml"
        script:
            "../scripts/prepare_registered_set.py"
