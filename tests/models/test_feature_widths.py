"""The probe's feature widths per model, measured once per torchvision version and cached."""

import json

import pytest

from cifar_zeroshot.models import feature_widths as widths_module
from cifar_zeroshot.models.feature_widths import feature_widths


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_ZEROSHOT_CACHE", str(tmp_path))
    return tmp_path


def test_widths_and_reasons_are_measured_once_then_read(cache, monkeypatch):
    found = feature_widths(["alexnet", "squeezenet1_1"])
    assert found["alexnet"] == 4096
    assert "no penultimate features" in found["squeezenet1_1"]
    measured = []
    monkeypatch.setattr(widths_module, "_measure", lambda model: measured.append(model) or 1)
    assert feature_widths(["squeezenet1_1", "alexnet"]) == {
        "squeezenet1_1": found["squeezenet1_1"],
        "alexnet": 4096,
    }
    assert measured == []  # read from the cache
    assert feature_widths(["alexnet", "resnet18"])["resnet18"] == 1  # only the new one measured
    assert measured == ["resnet18"]


@pytest.mark.parametrize(
    "content",
    [
        '{"torchvision": "0.0.1", "widths": {"alexnet": 7}}',  # another version
        '{"torchvision": "VERSION", "widths": {"alexnet": -3}}',  # not a width
        '{"torchvision": "VERSION", "widths": {"alexnet": true}}',
        '{"torchvision": "VERSION", "widths": [4096]}',
        "not json",
    ],
)
def test_an_entry_that_is_not_a_width_or_a_reason_is_measured_again(cache, content):
    feature_widths(["alexnet"])
    (path,) = cache.glob("torchvision-*-feature-widths.json")
    version = json.loads(path.read_text())["torchvision"]
    path.write_text(content.replace("VERSION", version))
    assert feature_widths(["alexnet"]) == {"alexnet": 4096}
