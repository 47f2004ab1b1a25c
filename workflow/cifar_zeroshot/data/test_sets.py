"""The test sets a run may score, as one registry: CIFAR-10 among them, not beside them.

Each entry says what the set is made from, how many images it holds, which configuration key
cuts its runs, and whether it is scored in blocks (CIFAR-10-C's corruption and severity). The
plan, the inference rules, the metrics and the free-space check read it; none of them names a
set. The built-in sets are built by their own data rules (downloads, archives, checksums:
data.smk, shifted_data.smk); a set with a ``reader`` is built by the one generic rule
(rule registered_test_set) from its ``sources``, so a new set is an entry and its reader.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.choices import (
    CIFAR10_1,
    CIFAR10_C,
    CIFAR10_TEST_IMAGES,
    REFERENCE_TEST_SET,
)
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.core.paths import test_images_path
from cifar_zeroshot.data import cifar10_1, cifar10_c
from cifar_zeroshot.data.image_set import ImageSet, save_image_set

# A reader turns a set's source files (rule input name -> path) into images uint8 [N, 32, 32, 3],
# labels [N] in CIFAR-10's class order, and the digest of what they were read from (MD5, or
# SHA-256 for a set with source_digest "sha256").
Reader = Callable[[Mapping[str, Path]], tuple[np.ndarray, np.ndarray, str]]


@dataclass(frozen=True)
class TestSet:
    name: str  # as in config test_sets, and the folder name under results/
    title: str  # how tables and figures name it
    # Images in the real set (per block for a set in blocks); None: known once it is built.
    real_images: int | None
    # The configuration key whose value cuts each run to its first N images: "limit" for
    # CIFAR-10, "shift_limit" for the shifted sets; None where the set is cut when it is built
    # (CIFAR-10-C's selection takes shift_limit per block).
    limit_key: str | None
    blocks: bool = False  # scored per (corruption, severity) block, as CIFAR-10-C
    reference: bool = False  # CIFAR-10's own test set, which every drop is measured from
    # Every class holds the same share of the images by design (CIFAR-10, CIFAR-10.1, each
    # CIFAR-10-C block): the known prior the balanced methods fit to (methods/balanced.py). A
    # set that cannot promise it sets False and gets no balanced rows; labels are never used
    # to decide it.
    equal_class_prior: bool = True
    # Built by the generic rule: its source files per dataset, and how they are read.
    sources: Callable[[str], dict[str, str]] | None = None
    reader: Reader | None = None
    source_digest: str = "md5"  # which digest the reader returns: "md5" or "sha256"
    user: bool = False  # from the config's test_sets (a user's files), not built in
    # The synthetic dataset's generated source files (each with its FILE.md5 sidecar): kept,
    # so a plain rerun makes them again when deleted (the real ones are downloads).
    stand_ins: tuple[str, ...] = ()

    def images_path(self, dataset: str) -> str:
        return test_images_path(dataset, self.name)

    def image_count(self, dataset: str, synthetic_images_per_class: int) -> int | None:
        """Images per run before any limit (per block); the synthetic stand-ins have the
        synthetic test set's size."""
        if dataset == "synthetic" and self.reader is None:
            return NUM_CIFAR10_CLASSES * synthetic_images_per_class
        return self.real_images


TEST_SETS: dict[str, TestSet] = {}


def register(test_set: TestSet) -> TestSet:
    """Add a test set to the registry (a name once)."""
    if test_set.name in TEST_SETS:
        raise ValueError(f"test set {test_set.name!r} is registered twice")
    if (test_set.reader is None) != (test_set.sources is None):
        raise ValueError(f"test set {test_set.name!r} needs both sources and a reader, or neither")
    TEST_SETS[test_set.name] = test_set
    return test_set


def test_set(name: str) -> TestSet:
    """The registered test set called ``name``; a clear refusal for any other name."""
    try:
        return TEST_SETS[name]
    except KeyError:
        raise UserError(f"unknown test set {name!r}. Allowed: {', '.join(TEST_SETS)}.") from None


def build_registered_set(name: str, sources: Mapping[str, Path], output: str | Path) -> None:
    """Read a registered set's sources with its reader and keep them as its image set, with the
    digest of what they were read from as its origin (an MD5 as archive_md5, a SHA-256 as
    source_sha256; checked whenever the set is loaded)."""
    entry = test_set(name)
    if entry.reader is None:
        raise ValueError(f"test set {name!r} is built by its own rules, not from a reader")
    images, labels, digest = entry.reader(sources)
    sha256 = entry.source_digest == "sha256"
    save_image_set(
        output,
        images,
        labels,
        None if sha256 else digest,
        ImageSet.TEST,
        member=entry.title,
        source_sha256=digest if sha256 else None,
    )


def register_user_sets(entries: list[TestSet]) -> None:
    """Replace the sets of the last configuration read (``user``) by ``entries``: planning
    registers a configuration's own sets, and a second plan in one process its own."""
    for name in [name for name, entry in TEST_SETS.items() if entry.user]:
        del TEST_SETS[name]
    for entry in entries:
        register(entry)


def generic_test_sets() -> list[TestSet]:
    """The sets the generic rule builds (those with a reader)."""
    return [entry for entry in TEST_SETS.values() if entry.reader is not None]


register(TestSet(REFERENCE_TEST_SET, "CIFAR-10", CIFAR10_TEST_IMAGES, "limit", reference=True))
register(
    TestSet(
        CIFAR10_1,
        "CIFAR-10.1",
        cifar10_1.IMAGES,
        "shift_limit",
        stand_ins=(cifar10_1.SYNTHETIC_DATA_PATH, cifar10_1.SYNTHETIC_LABELS_PATH),
    )
)
register(
    TestSet(
        CIFAR10_C,
        "CIFAR-10-C",
        CIFAR10_TEST_IMAGES,
        None,
        blocks=True,
        stand_ins=(cifar10_c.SYNTHETIC_ARCHIVE_PATH,),
    )
)
