"""The test-set axis of a configuration: which registered test sets it asks for, checked at
planning, and how many images each run of a set scores.

``test_sets`` holds cifar10 (the reference every drop is measured from, and the set the linear
probe is fitted on) and any other registered set (data.test_sets); or, without cifar10, sets from
the user's files alone (config.user_test_sets): then what needs CIFAR-10 is left out, with a
warning (``notes``), and the linear probe is refused. For a set in
blocks (CIFAR-10-C), ``corruptions`` (``all`` for the 19) and ``severities`` pick the blocks a
run scores. ``limit`` cuts CIFAR-10's runs, ``shift_limit`` the other sets' (CIFAR-10-C's per
block, when its selection is built). Every set gets one inference job per (model, variant):
CIFAR-10-C's covers every selected block, so its model is loaded (and compiled) once.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cifar_zeroshot.config.user_test_sets import entry_name, register_checked_sets
from cifar_zeroshot.core.choices import (
    CIFAR10_1,
    CORRUPTIONS,
    REFERENCE_TEST_SET,
    SEVERITIES,
    SYNTHETIC_CORRUPTIONS,
)
from cifar_zeroshot.data.test_sets import TEST_SETS, TestSet


@dataclass(frozen=True)
class TestSetPlan:
    """The test sets asked for, in registry order (CIFAR-10 first), and their cuts."""

    test_sets: tuple[str, ...] = (REFERENCE_TEST_SET,)
    corruptions: tuple[str, ...] = ()  # the blocked set's, in CORRUPTIONS order
    severities: tuple[int, ...] = ()
    limit: int | None = None  # config limit: CIFAR-10's runs
    shift_limit: int | None = None
    # Images per set (per block for a blocked set) before any cut; None: known once built.
    sizes: tuple[tuple[str, int | None], ...] = ()
    notes: tuple[str, ...] = ()  # what is left out and why (printed as warnings)
    # (test set, N): its last N images calibrate the int8 quantisation, so no run scores them
    # (config.calibration_plan).
    calibration_holdout: tuple[str, int] | None = None

    def titles(self, dataset: str) -> dict[str, str]:
        """How figures and tables name each set's images: a built-in set's title, "synthetic
        images" for its synthetic stand-in, a user set's title."""
        return {
            name: "synthetic images"
            if dataset == "synthetic" and not TEST_SETS[name].user
            else TEST_SETS[name].title
            for name in self.test_sets
        }

    @property
    def has_reference(self) -> bool:
        """Whether CIFAR-10's own test set is scored (without it: user sets alone)."""
        return REFERENCE_TEST_SET in self.test_sets

    @property
    def shifted(self) -> tuple[str, ...]:
        """The sets beside CIFAR-10 (the robustness table compares them with it); none
        without CIFAR-10."""
        if not self.has_reference:
            return ()
        return tuple(name for name in self.test_sets if not TEST_SETS[name].reference)

    @property
    def blocked(self) -> list[str]:
        """The sets scored in blocks (CIFAR-10-C) among those asked for."""
        return [name for name in self.test_sets if TEST_SETS[name].blocks]

    def blocks(self) -> list[tuple[str, int]]:
        """The (corruption, severity) blocks a blocked set's job scores, in that order."""
        if not self.blocked:
            return []
        return [(c, s) for c in self.corruptions for s in self.severities]

    def run_limit(self, test_set: str) -> int | None:
        """The first N images each run of ``test_set`` scores (None: all of its image set)."""
        key = TEST_SETS[test_set].limit_key
        cut = {"limit": self.limit, "shift_limit": self.shift_limit, None: None}[key]
        if self.calibration_holdout is None or self.calibration_holdout[0] != test_set:
            return cut
        size = dict(self.sizes)[test_set]
        assert size is not None  # calibration_plan holds out of a set of known size only
        scored = size - self.calibration_holdout[1]
        return scored if cut is None else min(cut, scored)

    def run_images(self, test_set: str) -> int:
        """Images one run of ``test_set`` scores (0 where the set's size is not known yet and
        no limit bounds it): what the free-space check counts."""
        entry = TEST_SETS[test_set]
        cut = self.shift_limit if entry.limit_key is None else self.run_limit(test_set)
        size = dict(self.sizes).get(test_set)
        known = [n for n in (cut, size) if n is not None]
        images = min(known) if known else 0
        return images * (len(self.blocks()) if entry.blocks else 1)


def _corruptions(config: Mapping[str, Any], problems: list[str]) -> tuple[str, ...]:
    asked = CORRUPTIONS if config["corruptions"] == "all" else tuple(config["corruptions"])
    names = map(entry_name, config["test_sets"])
    blocked = [t for t in names if t in TEST_SETS and TEST_SETS[t].blocks]
    if config["dataset"] == "synthetic" and blocked:
        missing = [c for c in asked if c not in SYNTHETIC_CORRUPTIONS]
        if missing:
            problems.append(
                f"config key 'corruptions': the synthetic CIFAR-10-C stand-in holds no "
                f"{', '.join(missing)}. Allowed with dataset 'synthetic': a list of "
                f"{', '.join(SYNTHETIC_CORRUPTIONS)} (the real archive has all 19)."
            )
    return tuple(c for c in CORRUPTIONS if c in asked)


def _check_limit(
    entry: TestSet, key: str, limit: int | None, size: int | None, dataset: str
) -> str | None:
    """A limit larger than the set (per block for a blocked set), as a problem line."""
    if limit is None or size is None or limit <= size:
        return None
    if entry.reference:
        return (
            f"config key 'limit': {limit} is more than the {size} test images of dataset "
            f"{dataset!r}. Allowed: null or an integer from 1 to {size}."
        )
    what = "images per corruption and severity" if entry.blocks else "images"
    return (
        f"config key '{key}': {limit} is more than the {size} {what} of "
        f"{entry.name} with dataset {dataset!r}. Allowed: null or an integer "
        f"from 1 to {size}."
    )


def test_set_plan(config: Mapping[str, Any], problems: list[str]) -> TestSetPlan:
    """The test sets of ``config`` (defaults filled); each problem goes to ``problems``."""
    register_checked_sets(config["test_sets"], problems)
    asked = [entry_name(entry) for entry in config["test_sets"]]
    built_in = [name for name, entry in TEST_SETS.items() if not entry.user]
    # (A user set with a problem is not registered; its problem is reported instead.)
    unknown = [t for t in config["test_sets"] if isinstance(t, str) and t not in built_in]
    if unknown:
        problems.append(
            f"config key 'test_sets': unknown test set(s) {', '.join(map(repr, unknown))}. "
            f"Allowed: {', '.join(built_in)}, or a set of your own files ({{name, path}} or "
            "{name, images, labels}, config/README.md)."
        )
    notes = []
    user_listed = any(not isinstance(entry, str) for entry in config["test_sets"])
    if REFERENCE_TEST_SET not in asked and not user_listed:
        problems.append(
            f"config key 'test_sets': {asked} lacks {REFERENCE_TEST_SET!r}, the reference every "
            "shifted accuracy is compared with (and the set the linear probe is fitted on). Fix: "
            f"list it too, e.g. [{REFERENCE_TEST_SET}, {CIFAR10_1}]."
        )
    elif REFERENCE_TEST_SET not in asked:
        if config["linear_probe"]:
            problems.append(
                f"config key 'linear_probe': the probe is fitted on CIFAR-10's training images "
                f"and scored on every test set beside {REFERENCE_TEST_SET!r}, which test_sets "
                f"does not list. Fix: add {REFERENCE_TEST_SET} to test_sets, or turn "
                "linear_probe off."
            )
        shifted = [t for t in asked if t in built_in]
        notes.append(
            f"config key 'test_sets' lists no {REFERENCE_TEST_SET}: the robustness table and "
            "figures (each set's drop from CIFAR-10) are left out, and the summary's table and "
            f"the figures of each run describe {asked[0]!r}, the first set listed; metrics.csv "
            "scores every set"
            + (f"; {', '.join(shifted)} is scored alone." if shifted else ".")
            + f" Add {REFERENCE_TEST_SET} to test_sets to compare with it."
        )
    severities = tuple(s for s in SEVERITIES if s in config["severities"])
    bad = [s for s in config["severities"] if s not in SEVERITIES]
    if bad:
        problems.append(
            f"config key 'severities': {bad} are not CIFAR-10-C severities. Allowed: a list of "
            f"{', '.join(map(str, SEVERITIES))}."
        )
    corruptions = _corruptions(config, problems)
    chosen = tuple(name for name in TEST_SETS if name in asked)
    dataset = config["dataset"]
    sizes = []
    for name in chosen:
        entry = TEST_SETS[name]
        key = entry.limit_key or "shift_limit"
        size = entry.image_count(dataset, int(config["synthetic_images_per_class"]))
        problem = _check_limit(entry, key, config[key], size, dataset)
        if problem:
            problems.append(problem)
        sizes.append((name, size))
    return TestSetPlan(
        chosen,
        corruptions,
        severities,
        config["limit"],
        config["shift_limit"],
        tuple(sizes),
        tuple(notes),
    )
