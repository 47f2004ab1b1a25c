"""Tests for cifar_zeroshot.mapping.imagenet_classes: torchvision's 1000 ImageNet-1k names."""

import pytest

from cifar_zeroshot.mapping import imagenet_classes
from cifar_zeroshot.mapping.imagenet_classes import all_imagenet_names, imagenet_categories


def test_torchvision_categories_are_the_known_1000() -> None:
    categories = imagenet_categories()
    assert len(categories) == 1000
    assert categories[0] == "tench"
    assert categories[339] == "sorrel"
    assert categories[134] == "crane bird"  # torchvision disambiguates the two "crane" classes
    assert categories[517] == "crane"


def test_categories_are_a_fresh_list_each_call() -> None:
    first = imagenet_categories()
    first[0] = "changed"
    assert imagenet_categories()[0] == "tench"  # the cached names cannot be changed by a caller


def test_all_imagenet_names_prefers_mapped_names() -> None:
    everything = all_imagenet_names({31: "n31"})
    assert len(everything) == 1000 and everything[31] == "n31"
    assert everything[0] == "tench"


def test_all_imagenet_names_falls_back_without_torchvision(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable() -> list[str]:
        raise ImportError("no torchvision")

    monkeypatch.setattr(imagenet_classes, "imagenet_categories", unavailable)
    everything = all_imagenet_names({339: "sorrel"})
    assert len(everything) == 1000
    assert everything[0] == "imagenet_0" and everything[339] == "sorrel"
