"""Tests for cifar_zeroshot.mapping.yaml_file: reading and checking the class mapping YAML file."""

from pathlib import Path

import pytest
import yaml
from workflow_runner import DEFAULT_MAPPING_FILE

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.mapping.definition import ClassMapping, mapping_warnings
from cifar_zeroshot.mapping.yaml_file import load_mapping

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


def _set_key(cls: str, key: str, value) -> dict:
    doc = minimal_doc()
    doc["classes"][cls][key] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "facts"),
    [
        (_set_key("horse", "ancestors", [{"wnid": "x"}]), ["ancestors item 1", "'x'", "8 digits"]),
        (_set_key("horse", "ancestors", [{"wnid": "n02374451", "lemma": 3}]), ["lemma 3"]),
        (_set_key("horse", "ancestors", "n02374451"), ["`ancestors:` must be a list"]),
        (_set_key("horse", "note", 5), ["'horse'", "`note:` must be text"]),
        (_set_key("frog", "imagenet", "x"), ["'frog'", "`imagenet:` must be a list"]),
        (_set_key("frog", "imagenet", [5]), ["imagenet item 1 must be a mapping", "got 5"]),
        (_set_key("cat", "imagenet", [{"name": "tabby"}]), ["has no `index:`"]),
        (_set_key("cat", "imagenet", [{"index": 281, "name": 7}]), ["name 7 is not text"]),
        (
            _set_key("truck", "excluded", [{"index": 717, "name": "pickup", "reason": 3}]),
            ["excluded item 1", "reason 3 is not text"],
        ),
        (_set_key("truck", "excluded", [{"index": 717, "name": "x"}]), ["'pickup'", "not 'x'"]),
        ({"classes": {**minimal_doc()["classes"], "ship": "canoe"}}, ["'ship' must be a mapping"]),
        ({"classes": [1]}, ["`classes:` must be a mapping", "got list"]),
    ],
)
def test_bad_entry_names_problem(tmp_path: Path, doc: dict, facts: list[str]) -> None:
    message = load_error(write_doc(tmp_path, doc))
    for fact in facts:
        assert fact in message, f"{fact!r} missing from: {message}"


def test_problems_come_in_a_fixed_order(tmp_path: Path) -> None:
    doc = _bad_missing_class(_bad_lion(_bad_top_level(minimal_doc())))
    doc["classes"]["truck"] = {
        "excluded": [{"index": 717, "name": "pickup", "reason": 3}],
        "imagenet": [{"index": 2000, "name": "x"}],
        "note": 5,
        "ancestors": [{"wnid": "x"}],
    }
    lines = load_error(write_doc(tmp_path, doc)).splitlines()
    expected = ["'pooling'", "wnid 'x'", "`note:`", "index 2000", "reason 3", "'lion'", "'horse'"]
    assert len(lines) == 1 + len(expected)
    for line, fact in zip(lines[1:], expected, strict=True):
        assert fact in line, f"{fact!r} not in {line!r}"


def test_load_logs_what_it_read(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="cifar_zeroshot"):
        load_mapping(DEFAULT_MAPPING_FILE)
    assert f"class mapping {DEFAULT_MAPPING_FILE}: 222 ImageNet classes mapped" in caplog.text
