"""Which images calibrate the int8 variant's quantisation, chosen and checked at planning.

A training set where the run has one (CIFAR-10 is scored, so its archive, or the synthetic
one, is read anyway): a fixed sample of int8_calibration_images of it. Without CIFAR-10 (user
test sets alone) the last int8_calibration_images of the first test set listed calibrate, and
every run of that set stops before them (TestSetPlan.calibration_holdout), so that no image both
calibrates and is scored, and every variant of the set still scores the same images.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from cifar_zeroshot.config.test_set_plan import TestSetPlan
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.core.paths import test_images_path, train_images_path
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.runtimes.calibration_source import TRAINING_SET, CalibrationSource


def _training_set(config: Mapping[str, Any], count: int, train_images: int) -> list[str]:
    if train_images >= count:
        return []
    if config["dataset"] == "synthetic":
        per_class = -(-count // NUM_CIFAR10_CLASSES)
        return [
            f"config key 'precision': int8 is calibrated on {count} training images "
            f"(int8_calibration_images), and the synthetic archive has {train_images}. Fix: set "
            f"synthetic_train_images_per_class to at least {per_class}, or lower "
            "int8_calibration_images."
        ]
    return [
        f"config key 'int8_calibration_images': {count} is more than the {train_images} "
        "training images. Fix: lower it."
    ]


def plan_calibration(
    config: Mapping[str, Any],
    variants: tuple[Variant, ...],
    test_sets: TestSetPlan,
    train_images: int,
    problems: list[str],
) -> tuple[CalibrationSource | None, TestSetPlan]:
    """The calibration images (None without an int8 variant), and the test sets with the
    calibrating set's hold-out; each problem goes to ``problems``."""
    if not any(variant.quantised for variant in variants):
        return None, test_sets
    count = int(config["int8_calibration_images"])
    dataset = config["dataset"]
    if test_sets.has_reference:
        problems += _training_set(config, count, train_images)
        return CalibrationSource(TRAINING_SET, train_images_path(dataset), count), test_sets
    name = test_sets.test_sets[0]
    size = dict(test_sets.sizes).get(name)
    if size is None:
        problems.append(
            f"config key 'precision': without a training set, int8 is calibrated on the last "
            f"images of the first test set listed, {name!r}, a folder whose image count is known "
            "only once it is built. Fix: list a set of .npy/.npz arrays first, or add cifar10 to "
            "test_sets (its training set then calibrates), or drop int8."
        )
        return None, test_sets
    if count >= size:
        problems.append(
            f"config key 'int8_calibration_images': without a training set, int8 is "
            f"calibrated on the last images of test set {name!r}, which none of its runs then "
            f"scores; {count} leaves none of its {size} images to score. Fix: lower "
            f"int8_calibration_images (e.g. to {max(1, size // 10)})."
        )
        return None, test_sets
    source = CalibrationSource(name, test_images_path(dataset, name), count)
    return source, dataclasses.replace(test_sets, calibration_holdout=(name, count))
