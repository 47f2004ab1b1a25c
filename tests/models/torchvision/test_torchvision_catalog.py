"""The model-name cache is believed only when it holds all that planning reads.

Each test starts the catalog afresh, with a cache folder of its own holding a damaged cache.
"""

import importlib.metadata
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from cifar_zeroshot.models.torchvision import catalog as torchvision_catalog
from cifar_zeroshot.models.torchvision.catalog import (
    check_model_name,
    resolved_weights_label,
    weights_member,
)

VERSION = importlib.metadata.version("torchvision")


@pytest.fixture
def cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the catalog is cached for this test; nothing is loaded yet."""
    monkeypatch.setenv("CIFAR_ZEROSHOT_CACHE", str(tmp_path))
    monkeypatch.setattr(torchvision_catalog.CATALOG, "loaded", None)
    return tmp_path / f"torchvision-{VERSION}-models.json"


def _true_catalog() -> dict[str, Any]:
    """torchvision's names as the cache holds them (JSON: lists, not tuples)."""
    return json.loads(json.dumps(asdict(torchvision_catalog._build(VERSION))))


def _without_alexnet(raw: dict[str, Any]) -> None:
    raw["classifiers"].remove("alexnet")
    del raw["weights"]["alexnet"]


def _without_alexnets_weights(raw: dict[str, Any]) -> None:
    del raw["weights"]["alexnet"]


def _alexnet_as_a_detection_model(raw: dict[str, Any]) -> None:
    _without_alexnet(raw)
    raw["others"]["alexnet"] = "detection"


def _weights_of_the_wrong_shape(raw: dict[str, Any]) -> None:
    raw["weights"]["alexnet"] = "AlexNet_Weights"


def _without_published_figures(raw: dict[str, Any]) -> None:
    del raw["published"]


def _published_figures_of_the_wrong_shape(raw: dict[str, Any]) -> None:
    raw["published"]["alexnet"]["IMAGENET1K_V1"] = ["56.522", 61100840, 0.71]


def _published_figures_of_weights_alexnet_lacks(raw: dict[str, Any]) -> None:
    raw["published"]["alexnet"]["IMAGENET1K_V9"] = [99.0, 1, 1.0]


def _another_torchvision(raw: dict[str, Any]) -> None:
    _without_alexnet(raw)
    raw["torchvision"] = "0.1.0"


@pytest.mark.parametrize(
    "damage",
    [
        _without_alexnet,
        _without_alexnets_weights,
        _alexnet_as_a_detection_model,
        _weights_of_the_wrong_shape,
        _without_published_figures,
        _published_figures_of_the_wrong_shape,
        _published_figures_of_weights_alexnet_lacks,
        _another_torchvision,
    ],
)
def test_a_cache_that_lacks_what_planning_needs_is_rebuilt(
    cache_file: Path, damage: Callable[[dict[str, Any]], None]
) -> None:
    raw = _true_catalog()
    damage(raw)
    cache_file.write_text(json.dumps(raw), encoding="utf-8")

    assert check_model_name("alexnet") == "alexnet"
    assert weights_member("alexnet", "DEFAULT") == "IMAGENET1K_V1"
    assert resolved_weights_label("alexnet", "DEFAULT") == "AlexNet_Weights.IMAGENET1K_V1"
    assert json.loads(cache_file.read_text(encoding="utf-8")) == _true_catalog()


@pytest.mark.parametrize(
    "content",
    [b"\x00\xffgarbage", b"[1, 2, 3]", b'{"torchvision": null}', b"{" * 100, b" " * (2 << 20)],
    ids=["binary", "a list", "keys missing", "unbalanced", "too big"],
)
def test_a_garbage_cache_is_ignored_and_replaced(cache_file: Path, content: bytes) -> None:
    cache_file.write_bytes(content)
    assert resolved_weights_label("alexnet", "DEFAULT") == "AlexNet_Weights.IMAGENET1K_V1"
    assert json.loads(cache_file.read_text(encoding="utf-8")) == _true_catalog()


def test_a_name_torchvision_lacks_is_still_unknown_after_a_fresh_look(cache_file: Path) -> None:
    cache_file.write_text(json.dumps(_true_catalog()), encoding="utf-8")
    with pytest.raises(torchvision_catalog.UserError, match="Unknown model 'alexnet2'"):
        check_model_name("alexnet2")
    assert torchvision_catalog.CATALOG.read_from_package
