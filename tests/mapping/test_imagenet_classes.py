"""Tests for cifar_zeroshot.mapping.imagenet_classes: torchvision's 1000 ImageNet-1k names."""

import importlib.util
import subprocess
import sys
from types import SimpleNamespace

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


def test_the_names_read_from_torchvisions_source_are_its_weights_names() -> None:
    from_source = imagenet_classes._categories_from_source()
    assert from_source is not None  # the installed torchvision keeps them where it is looked for
    assert from_source == imagenet_classes._categories_from_weights()


def test_the_names_are_read_without_importing_torchvision() -> None:
    code = (
        "import sys\n"
        "from cifar_zeroshot.mapping.imagenet_classes import imagenet_categories\n"
        "assert len(imagenet_categories()) == 1000\n"
        "print('torch' in sys.modules, 'torchvision' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_without_the_source_file_the_names_come_from_torchvisions_weights(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    elsewhere = SimpleNamespace(submodule_search_locations=[str(tmp_path)])  # no models/_meta.py
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: elsewhere)
    assert imagenet_classes._categories_from_source() is None
    imagenet_classes._categories.cache_clear()
    try:
        assert imagenet_categories()[339] == "sorrel"
    finally:
        imagenet_classes._categories.cache_clear()


def test_a_changed_list_in_the_source_file_is_not_taken(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "_meta.py").write_text('_IMAGENET_CATEGORIES = ["tench", "goldfish"]\n')

    short = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: short)
    assert imagenet_classes._categories_from_source() is None
