"""User test sets in config test_sets: the schema's forms, the planning refusals (names, files),
the registry entries planning adds, and a plan without cifar10."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from cifar_zeroshot.config.planning import plan_workflow
from cifar_zeroshot.config.schema import check_against_schema
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.test_sets import TEST_SETS, register_user_sets

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
PROPERTIES = yaml.safe_load(SCHEMA.read_text())["properties"]


@pytest.fixture(autouse=True)
def _built_in_registry():
    """Planning registers the config's sets in this process: leave only the built-in ones."""
    yield
    register_user_sets([])


def _config(**overrides):
    config = {key: spec.get("default") for key, spec in PROPERTIES.items()}
    config.update(
        models=["alexnet"], class_mapping=str(REPO / "config/class_mapping.yaml"), **overrides
    )
    return config


def _folder(root: Path) -> Path:
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(root / name / "a.png")
    return root


def _arrays(path: Path, count: int = 12) -> Path:
    images = np.zeros((count, 32, 32, 3), dtype=np.uint8)
    np.savez(path, images=images, labels=np.arange(count) % 10)
    return path


def test_the_schema_takes_names_and_the_two_entry_forms():
    ok = [
        "cifar10",
        {"name": "a", "path": "x"},
        {"name": "b", "images": "x.npz", "title": "B"},
        {"name": "c", "images": "x.npy", "labels": "y.npy"},
    ]
    check_against_schema(_config(test_sets=ok), SCHEMA)
    for bad in (
        {"name": "a"},
        {"name": "a", "path": "x", "images": "y.npz"},
        {"name": "a", "path": "x", "labels": "y.npy"},
        {"name": "a", "labels": "y.npy"},
        {"name": "a", "path": "x", "colour": "red"},
    ):
        with pytest.raises(UserError, match=r"config key 'test_sets\.1' has a bad value"):
            check_against_schema(_config(test_sets=["cifar10", bad]), SCHEMA)


def test_planning_registers_user_sets_built_by_the_generic_rule(tmp_path):
    folder = _folder(tmp_path / "photos")
    arrays = _arrays(tmp_path / "s.npz")
    plan = plan_workflow(
        _config(
            test_sets=[
                "cifar10",
                {"name": "my-photos", "path": str(folder), "title": "My photos"},
                {"name": "sample", "images": str(arrays)},
            ]
        )
    )
    assert plan.test_sets.test_sets == ("cifar10", "my-photos", "sample")
    assert plan.test_sets.shifted == ("my-photos", "sample") and not plan.test_sets.notes
    photos, sample = TEST_SETS["my-photos"], TEST_SETS["sample"]
    assert (photos.title, sample.title) == ("My photos", "sample")
    # Every image file is an input of the rule, so a changed or added one rebuilds the set.
    assert sorted(photos.sources("synthetic").values()) == [
        str(folder / "cat/a.png"),
        str(folder / "dog/a.png"),
    ]
    assert sample.sources("cifar10") == {"images": str(arrays)}
    assert (
        dict(plan.test_sets.sizes)["sample"] == 12 and dict(plan.test_sets.sizes)["my-photos"] == 2
    )
    # A second plan registers its own sets alone.
    plan_workflow(_config())
    assert tuple(TEST_SETS) == ("cifar10", "cifar10.1", "cifar10-c")


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            ["cifar10", {"name": "cifar10.1", "images": "s.npz"}],
            r"entry 'cifar10.1': 'cifar10.1' is a built-in test set's name.*Fix: name your set "
            r"otherwise, e.g. 'my-cifar10.1'",
        ),
        (
            ["cifar10", {"name": "x", "images": "s.npz"}, {"name": "x", "path": "photos"}],
            r"'test_sets': 'x' is listed 2 times.*Fix: give each entry its own name",
        ),
        (
            ["cifar10", {"name": "../up", "images": "s.npz"}],
            r"entry '../up': the name is a folder under results/.*Fix: rename it",
        ),
        (
            ["cifar10", {"name": "gone", "path": "nowhere"}],
            r"entry 'gone': nowhere does not exist\. Fix: point 'path' at an existing folder",
        ),
        (
            ["cifar10", {"name": "gone", "images": "nowhere.npz"}],
            r"entry 'gone': nowhere\.npz does not exist\. Fix:",
        ),
        (["cifar10", "cifar10.2"], r"unknown test set\(s\) 'cifar10.2'.*or a set of your own"),
    ],
)
def test_bad_entries_are_refused_at_planning(tmp_path, monkeypatch, entries, expected):
    monkeypatch.chdir(tmp_path)
    _arrays(tmp_path / "s.npz")
    _folder(tmp_path / "photos")
    with pytest.raises(UserError, match=expected):
        plan_workflow(_config(test_sets=entries))


def test_without_cifar10_user_sets_are_planned_alone_with_a_warning(tmp_path):
    arrays = _arrays(tmp_path / "s.npz")
    plan = plan_workflow(
        _config(test_sets=[{"name": "sample", "images": str(arrays)}, "cifar10.1"])
    )
    assert plan.test_sets.test_sets == ("cifar10.1", "sample")
    assert not plan.test_sets.has_reference and plan.test_sets.shifted == ()
    assert [t for t, _, _ in plan.runs] == ["cifar10.1", "sample"]
    (note,) = plan.test_sets.notes
    assert "lists no cifar10: the robustness table" in note and "cifar10.1 is scored alone" in note


def test_without_cifar10_the_probe_is_refused_naming_the_fix(tmp_path):
    arrays = _arrays(tmp_path / "s.npz")
    with pytest.raises(UserError, match=r"'linear_probe'.*Fix: add cifar10 to test_sets, or turn"):
        plan_workflow(
            _config(test_sets=[{"name": "sample", "images": str(arrays)}], linear_probe=True)
        )


def test_without_cifar10_or_a_user_set_planning_still_refuses():
    with pytest.raises(UserError, match=r"\['cifar10.1'\] lacks 'cifar10'"):
        plan_workflow(_config(test_sets=["cifar10.1"]))
