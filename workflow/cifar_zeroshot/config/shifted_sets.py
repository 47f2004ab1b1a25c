"""The test-set axis: which shifted test sets a configuration asks for, checked at planning.

``test_sets`` always holds cifar10 (the reference every drop is measured from, and the set the
linear probe is fitted on); cifar10.1 and cifar10-c may be added. For CIFAR-10-C, ``corruptions``
(``all`` for the 19) and ``severities`` pick the blocks a run scores, and ``shift_limit`` the
first N images of CIFAR-10.1 and of each block. Every shifted set gets one inference job per
(model, variant): CIFAR-10-C's covers every selected corruption and severity, so its model is
loaded (and compiled) once.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cifar_zeroshot.core.choices import (
    CIFAR10_1,
    CIFAR10_C,
    CIFAR10_TEST_IMAGES,
    CORRUPTIONS,
    REFERENCE_TEST_SET,
    SEVERITIES,
    SYNTHETIC_CORRUPTIONS,
    TEST_SETS,
)
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.data import cifar10_1
from cifar_zeroshot.data.cifar10_c import block_path
from cifar_zeroshot.models.family_registry import family_of_slug


@dataclass(frozen=True)
class ShiftPlan:
    """The shifted test sets asked for, in TEST_SETS order (none: CIFAR-10 only)."""

    test_sets: tuple[str, ...] = ()
    corruptions: tuple[str, ...] = ()  # CIFAR-10-C's, in CORRUPTIONS order
    severities: tuple[int, ...] = ()
    shift_limit: int | None = None

    def blocks(self) -> list[tuple[str, int]]:
        """CIFAR-10-C's (corruption, severity) blocks, in the order its job scores them."""
        if CIFAR10_C not in self.test_sets:
            return []
        return [(c, s) for c in self.corruptions for s in self.severities]


def shifted_images_path(dataset: str, test_set: str) -> str:
    """The image set a shifted run scores (CIFAR-10-C's: the selected blocks together)."""
    return f"data/{dataset}/{test_set}/test_set.npz"


def selection_table_path(dataset: str) -> str:
    """Which rows of CIFAR-10-C's selection hold which corruption and severity (CSV)."""
    return f"data/{dataset}/{CIFAR10_C}/blocks.csv"


def shifted_block_paths(dataset: str, plan: ShiftPlan) -> list[str]:
    return [block_path(dataset, c, s) for c, s in plan.blocks()]


def shifted_output_path(test_set: str, model: str, variant: str) -> str:
    """A shifted run's per-image file: beside CIFAR-10's, one folder per test set deeper."""
    kind = family_of_slug(model).output_kind
    return f"results/{kind}/{test_set}/{model}/{variant}.parquet"


def shifted_timing_path(test_set: str, model: str, variant: str) -> str:
    return f"results/timing/{test_set}/{model}/{variant}.parquet"


def shifted_features_path(test_set: str, model: str, variant: str) -> str:
    """A probed run's test features on a shifted set (the linear probe scores them)."""
    return f"results/features/{test_set}/{model}/{variant}/test.parquet"


def shifted_probe_path(test_set: str, model: str, variant: str) -> str:
    """The CIFAR-10 probe's scores of a shifted set's features (never refitted on them)."""
    return f"results/probe/{test_set}/{model}/{variant}.parquet"


def shifted_set_sizes(config: Mapping[str, Any]) -> dict[str, int]:
    """Images in CIFAR-10.1 and in one CIFAR-10-C block (the synthetic stand-ins': the test
    set's size)."""
    if config["dataset"] == "synthetic":
        size = NUM_CIFAR10_CLASSES * int(config["synthetic_images_per_class"])
        return {CIFAR10_1: size, CIFAR10_C: size}
    return {CIFAR10_1: cifar10_1.IMAGES, CIFAR10_C: CIFAR10_TEST_IMAGES}


def _corruptions(config: Mapping[str, Any], problems: list[str]) -> tuple[str, ...]:
    asked = CORRUPTIONS if config["corruptions"] == "all" else tuple(config["corruptions"])
    if config["dataset"] == "synthetic" and CIFAR10_C in config["test_sets"]:
        missing = [c for c in asked if c not in SYNTHETIC_CORRUPTIONS]
        if missing:
            problems.append(
                f"config key 'corruptions': the synthetic CIFAR-10-C stand-in holds no "
                f"{', '.join(missing)}. Allowed with dataset 'synthetic': a list of "
                f"{', '.join(SYNTHETIC_CORRUPTIONS)} (the real archive has all 19)."
            )
    return tuple(c for c in CORRUPTIONS if c in asked)


def shift_plan(config: Mapping[str, Any], problems: list[str]) -> ShiftPlan:
    """The shifted sets of ``config`` (defaults filled); each problem goes to ``problems``."""
    asked = list(config["test_sets"])
    unknown = [t for t in asked if t not in TEST_SETS]
    if unknown:  # the schema refuses these first; callers that bypass it get the same answer
        problems.append(
            f"config key 'test_sets': unknown test set(s) {', '.join(map(repr, unknown))}. "
            f"Allowed: {', '.join(TEST_SETS)}."
        )
    if REFERENCE_TEST_SET not in asked:
        problems.append(
            f"config key 'test_sets': {asked} lacks {REFERENCE_TEST_SET!r}, the reference every "
            "shifted accuracy is compared with (and the set the linear probe is fitted on). Fix: "
            f"list it too, e.g. [{REFERENCE_TEST_SET}, {CIFAR10_1}]."
        )
    severities = tuple(s for s in SEVERITIES if s in config["severities"])
    bad = [s for s in config["severities"] if s not in SEVERITIES]
    if bad:
        problems.append(
            f"config key 'severities': {bad} are not CIFAR-10-C severities. Allowed: a list of "
            f"{', '.join(map(str, SEVERITIES))}."
        )
    corruptions = _corruptions(config, problems)
    shifted = tuple(t for t in TEST_SETS if t in asked and t != REFERENCE_TEST_SET)
    limit = config["shift_limit"]
    for test_set in shifted:
        size = shifted_set_sizes(config)[test_set]
        if limit is not None and limit > size:
            what = "images" if test_set == CIFAR10_1 else "images per corruption and severity"
            problems.append(
                f"config key 'shift_limit': {limit} is more than the {size} {what} of "
                f"{test_set} with dataset {config['dataset']!r}. Allowed: null or an integer "
                f"from 1 to {size}."
            )
    return ShiftPlan(shifted, corruptions, severities, limit)
