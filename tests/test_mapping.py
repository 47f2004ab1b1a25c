"""Tests for cifar_zeroshot.mapping and the default config/class_mapping.yaml."""

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cifar_zeroshot.errors import UserError
from cifar_zeroshot.labels import CIFAR10_CLASSES
from cifar_zeroshot.mapping import (
    ClassMapping,
    imagenet_categories,
    load_mapping,
    mapping_warnings,
    write_mapping_csv,
    write_mapping_summary,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "config" / "class_mapping.yaml"
SHARED = REPO.parent / "shared" / "data"
REFERENCE_JSON = SHARED / "reference-mappings" / "wordnet-derived-imagenet1k-to-cifar10.json"
WORDNET = SHARED / "imagenet-wordnet"

# One valid member per class, in label order (names as in torchvision).
MINIMAL = {
    "airplane": (404, "airliner"),
    "automobile": (436, "beach wagon"),
    "bird": (7, "cock"),
    "cat": (281, "tabby"),
    "deer": (351, "hartebeest"),
    "dog": (151, "Chihuahua"),
    "frog": (30, "bullfrog"),
    "horse": (339, "sorrel"),
    "ship": (472, "canoe"),
    "truck": (555, "fire engine"),
}


def minimal_doc() -> dict:
    return {
        "classes": {
            name: {"imagenet": [{"index": index, "name": member}]}
            for name, (index, member) in MINIMAL.items()
        }
    }


def write_doc(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        load_mapping(path)
    return str(caught.value)


@pytest.fixture(scope="module")
def default_mapping() -> ClassMapping:
    return load_mapping(DEFAULT)


def test_torchvision_categories_are_the_known_1000() -> None:
    categories = imagenet_categories()
    assert len(categories) == 1000
    assert categories[0] == "tench"
    assert categories[339] == "sorrel"
    assert categories[134] == "crane bird"  # torchvision disambiguates the two "crane" classes
    assert categories[517] == "crane"


def test_default_mapping_loads(default_mapping: ClassMapping) -> None:
    assert default_mapping.class_names == CIFAR10_CLASSES
    assert default_mapping.member_count == 222
    sizes = {c.name: len(c.indices) for c in default_mapping.classes}
    assert sizes == {
        "airplane": 2,
        "automobile": 10,
        "bird": 59,
        "cat": 5,
        "deer": 3,
        "dog": 118,
        "frog": 3,
        "horse": 1,
        "ship": 15,
        "truck": 6,
    }
    dog = default_mapping.classes[CIFAR10_CLASSES.index("dog")]
    assert dog.indices == tuple(range(151, 269))
    deer = default_mapping.classes[CIFAR10_CLASSES.index("deer")]
    assert [a.wnid for a in deer.ancestors] == ["n02419796"]
    assert "no deer" in deer.note.lower()
    truck = default_mapping.classes[CIFAR10_CLASSES.index("truck")]
    assert {e.index: e.name for e in truck.excluded} == {656: "minivan", 717: "pickup"}


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


@pytest.mark.skipif(not REFERENCE_JSON.exists(), reason="../shared reference mapping absent")
def test_default_matches_reference_json(default_mapping: ClassMapping) -> None:
    reference = json.loads(REFERENCE_JSON.read_text(encoding="utf-8"))
    categories = imagenet_categories()
    assert list(reference) == list(CIFAR10_CLASSES)
    for mapped in default_mapping.classes:
        assert sorted(mapped.indices) == sorted(m["index"] for m in reference[mapped.name])
        # Names are torchvision's (the reference says "crane" for 134, torchvision "crane bird").
        assert list(mapped.names) == [categories[i] for i in mapped.indices]


def _wordnet_ancestors() -> tuple[list[str], dict[str, set[str]]]:
    synsets = (WORDNET / "imagenet_synsets.txt").read_text(encoding="utf-8").split()
    parents: dict[str, set[str]] = defaultdict(set)
    for line in (WORDNET / "wordnet.is_a.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            parent, child = line.split()
            parents[child].add(parent)
    closure: dict[str, set[str]] = {}
    for wnid in synsets:  # the wnid itself plus every transitive parent (a DAG: several paths)
        seen, stack = {wnid}, [wnid]
        while stack:
            for parent in parents[stack.pop()]:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        closure[wnid] = seen
    return synsets, closure


@pytest.mark.skipif(not WORDNET.exists(), reason="../shared WordNet files absent")
def test_members_descend_from_named_ancestors(default_mapping: ClassMapping) -> None:
    synsets, closure = _wordnet_ancestors()
    assert len(synsets) == 1000
    for mapped in default_mapping.classes:
        named = {a.wnid for a in mapped.ancestors}
        assert named, f"{mapped.name} names no WordNet ancestor"
        excluded = {e.index for e in mapped.excluded}
        for index in mapped.indices:
            assert closure[synsets[index]] & named, f"{mapped.name}: {index} not under {named}"
        assert not excluded & set(mapped.indices)
        # Members + excluded = every ImageNet class under the ancestors: nothing dropped silently.
        under = {i for i, wnid in enumerate(synsets) if closure[wnid] & named}
        assert set(mapped.indices) | excluded == under, mapped.name


def test_minimal_mapping_loads(tmp_path: Path) -> None:
    mapping = load_mapping(write_doc(tmp_path, minimal_doc()))
    assert mapping.member_count == 10
    assert [int(g[0]) for g in mapping.index_groups()] == [i for i, _ in MINIMAL.values()]
    assert len(mapping_warnings(mapping)) == 10
    assert mapping.classes[0].ancestors == ()
    assert mapping.classes[0].note == ""


def test_class_order_follows_cifar_labels_not_the_file(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["classes"] = dict(reversed(list(doc["classes"].items())))
    mapping = load_mapping(write_doc(tmp_path, doc))
    assert mapping.class_names == CIFAR10_CLASSES
    assert mapping.imagenet_to_cifar()[404] == 0


def _set_member(doc: dict, cls: str, index, name) -> dict:
    doc["classes"][cls]["imagenet"][0] = {"index": index, "name": name}
    return doc


def _bad_index_1000(doc: dict) -> dict:
    return _set_member(doc, "cat", 1000, "tabby")


def _bad_index_negative(doc: dict) -> dict:
    return _set_member(doc, "cat", -1, "tabby")


def _bad_index_text(doc: dict) -> dict:
    return _set_member(doc, "cat", "281", "tabby")


def _bad_index_bool(doc: dict) -> dict:
    return _set_member(doc, "cat", True, "tabby")


def _bad_two_classes(doc: dict) -> dict:
    doc["classes"]["truck"]["imagenet"].append({"index": 436, "name": "beach wagon"})
    return doc


def _bad_twice_in_class(doc: dict) -> dict:
    doc["classes"]["dog"]["imagenet"].append({"index": 151, "name": "Chihuahua"})
    return doc


def _bad_empty_class(doc: dict) -> dict:
    doc["classes"]["frog"]["imagenet"] = []
    return doc


def _bad_lion(doc: dict) -> dict:
    doc["classes"]["lion"] = {"imagenet": [{"index": 291, "name": "lion"}]}
    return doc


def _bad_name(doc: dict) -> dict:
    return _set_member(doc, "cat", 281, "tabby cat")


def _bad_missing_class(doc: dict) -> dict:
    del doc["classes"]["horse"]
    return doc


def _bad_top_level(doc: dict) -> dict:
    doc["pooling"] = "max"
    return doc


def _bad_class_key(doc: dict) -> dict:
    doc["classes"]["ship"]["members"] = [1]
    return doc


def _bad_flat_file(doc: dict) -> dict:
    return doc["classes"]


@pytest.mark.parametrize(
    ("mutate", "facts"),
    [
        (_bad_index_1000, ["'cat'", "1000", "0..999"]),
        (_bad_index_negative, ["'cat'", "-1", "0..999"]),
        (_bad_index_text, ["'cat'", "'281'", "not an integer"]),
        (_bad_index_bool, ["'cat'", "True", "not an integer"]),
        (_bad_two_classes, ["436", "'automobile'", "'truck'", "one CIFAR-10 class"]),
        (_bad_twice_in_class, ["'dog'", "151", "twice"]),
        (_bad_empty_class, ["'frog'", "no ImageNet members"]),
        (_bad_lion, ["'lion'", "not a CIFAR-10 class", "airplane", "truck"]),
        (_bad_name, ["281", "'tabby'", "'tabby cat'", 'name: "tabby"']),
        (_bad_missing_class, ["'horse'", "missing", "horse:"]),
        (_bad_top_level, ["'pooling'", "classes"]),
        (_bad_class_key, ["'ship'", "'members'", "imagenet"]),
        (_bad_flat_file, ["top level", "classes:"]),
    ],
)
def test_bad_mapping_names_problem(tmp_path: Path, mutate, facts: list[str]) -> None:
    path = write_doc(tmp_path, mutate(minimal_doc()))
    message = load_error(path)
    assert str(path) in message
    for fact in facts:
        assert fact in message, f"{fact!r} missing from: {message}"


def test_name_mismatch_points_to_the_right_index(tmp_path: Path) -> None:
    message = load_error(write_doc(tmp_path, _set_member(minimal_doc(), "bird", 134, "crane")))
    assert "'crane bird'" in message
    assert "index 517" in message  # torchvision's "crane" (the machine) lives there


def test_several_problems_reported_together(tmp_path: Path) -> None:
    doc = _bad_lion(_bad_missing_class(_bad_index_1000(minimal_doc())))
    message = load_error(write_doc(tmp_path, doc))
    assert "3 problems" in message
    for fact in ("1000", "'lion'", "'horse'"):
        assert fact in message


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "classes:\n  cat:\n    imagenet:\n      - {index: 281, name: tabby\n  dog: x\n",
        encoding="utf-8",
    )
    message = load_error(path)
    assert str(path) in message
    assert "invalid YAML" in message
    assert "line 5" in message
    assert "starts at line 4" in message  # where the unclosed brace opened


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    body = yaml.safe_dump(minimal_doc(), sort_keys=False)
    body += "  dog:\n    imagenet:\n    - {index: 152, name: Japanese spaniel}\n"
    path.write_text(body, encoding="utf-8")
    message = load_error(path)
    assert "duplicate key 'dog'" in message
    assert f"line {body.count(chr(10)) - 2}" in message


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    assert "is empty" in load_error(empty)
    missing = tmp_path / "nope.yaml"
    assert "not found" in load_error(missing)


def test_excluded_member_cannot_also_be_listed(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["classes"]["truck"]["excluded"] = [{"index": 555, "name": "fire engine", "reason": "x"}]
    message = load_error(write_doc(tmp_path, doc))
    assert "555" in message
    assert "both a member and excluded" in message


def test_mapping_csv(tmp_path: Path, default_mapping: ClassMapping) -> None:
    path = tmp_path / "out" / "class_mapping.csv"
    write_mapping_csv(default_mapping, path)
    table = pd.read_csv(path)
    assert list(table.columns[:3]) == ["cifar_class", "imagenet_index", "imagenet_name"]
    assert len(table) == 222
    assert table["imagenet_index"].is_unique
    horse = table[table["cifar_class"] == "horse"]
    assert horse[["imagenet_index", "imagenet_name"]].values.tolist() == [[339, "sorrel"]]
    assert (table["cifar_label"] == table["cifar_class"].map(CIFAR10_CLASSES.index)).all()
    assert sorted(p.name for p in path.parent.iterdir()) == ["class_mapping.csv"]


def test_mapping_summary(tmp_path: Path, default_mapping: ClassMapping) -> None:
    path = tmp_path / "summary.csv"
    write_mapping_summary(default_mapping, path)
    table = pd.read_csv(path, keep_default_na=False)
    assert list(table.columns) == ["cifar_class", "members", "ancestor", "warning"]
    assert table["cifar_class"].tolist() == list(CIFAR10_CLASSES)
    assert table["members"].sum() == 222
    rows = table.set_index("cifar_class")
    assert "n02419796" in rows.loc["deer", "ancestor"]
    assert "sorrel" in rows.loc["horse", "warning"]
    assert rows.loc["dog", "warning"] == ""


def test_failed_write_leaves_no_partial_file(
    tmp_path: Path, default_mapping: ClassMapping, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_midway(self, handle, **kwargs) -> None:
        handle.write("cifar_class,imagenet_index\n")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail_midway)
    path = tmp_path / "class_mapping.csv"
    with pytest.raises(OSError, match="disk full"):
        write_mapping_csv(default_mapping, path)
    assert list(tmp_path.iterdir()) == []
