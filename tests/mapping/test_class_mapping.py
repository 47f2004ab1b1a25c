"""Tests for cifar_zeroshot.mapping.definition: the checked mapping's lookups and warnings."""

import numpy as np
import pytest

from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.mapping.definition import (
    Ancestor,
    ClassMapping,
    MappedClass,
    mapping_description,
    mapping_warnings,
)


def one_member_each() -> tuple[MappedClass, ...]:
    return tuple(
        MappedClass(name, label, (label,), (f"in{label}",))
        for label, name in enumerate(CIFAR10_CLASSES)
    )


def test_index_groups_and_lookup_agree(default_mapping: ClassMapping) -> None:
    groups = default_mapping.index_groups()
    lookup = default_mapping.imagenet_to_cifar()
    assert len(groups) == 10
    assert lookup.shape == (1000,)
    assert np.issubdtype(lookup.dtype, np.integer)
    assert (lookup >= 0).sum() == 222
    for label, group in enumerate(groups):
        assert (lookup[group] == label).all()
    assert lookup[339] == CIFAR10_CLASSES.index("horse")
    assert lookup[717] == -1  # pickup: in neither automobile nor truck
    assert lookup[656] == CIFAR10_CLASSES.index("automobile")  # minivan
    assert lookup[0] == -1  # tench


def test_warns_about_single_member_class(default_mapping: ClassMapping) -> None:
    warnings = mapping_warnings(default_mapping)
    assert len(warnings) == 1
    assert "horse" in warnings[0]
    assert "sorrel" in warnings[0]


def test_classes_must_be_cifar10_in_label_order() -> None:
    classes = one_member_each()
    assert ClassMapping(classes).member_count == 10
    with pytest.raises(ValueError, match="CIFAR-10 classes in label order"):
        ClassMapping(tuple(reversed(classes)))
    with pytest.raises(ValueError, match="CIFAR-10 classes in label order"):
        ClassMapping(classes[:9])


def test_description_says_what_each_class_pools(default_mapping: ClassMapping) -> None:
    lines = mapping_description(default_mapping)
    assert len(lines) == 10
    assert lines[7] == "7 horse: pools 1 ImageNet class under n02374451 (horse)"
    assert lines[5].startswith("5 dog: pools 118 ImageNet classes under n02084071 (dog)")
    bare = mapping_description(ClassMapping(one_member_each()))
    assert bare[0] == "0 airplane: pools 1 ImageNet class"  # no ancestors named


def test_description_names_each_ancestor_by_its_first_lemma() -> None:
    classes = list(one_member_each())
    classes[0] = MappedClass(
        "airplane", 0, (404,), ("airliner",), (Ancestor("n02691156", "airplane, aeroplane"),)
    )
    assert mapping_description(ClassMapping(tuple(classes)))[0] == (
        "0 airplane: pools 1 ImageNet class under n02691156 (airplane)"
    )
