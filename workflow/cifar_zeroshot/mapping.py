"""The ImageNet-1k -> CIFAR-10 class mapping: load and check the YAML file, write its CSVs."""

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cifar_zeroshot.atomic import atomic_path
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.labels import CIFAR10_CLASSES, NUM_IMAGENET_CLASSES

__all__ = [
    "Ancestor",
    "ClassMapping",
    "Exclusion",
    "MappedClass",
    "imagenet_categories",
    "load_mapping",
    "mapping_warnings",
    "write_mapping_csv",
    "write_mapping_summary",
]

MAPPING_CSV_COLUMNS = ("cifar_class", "imagenet_index", "imagenet_name", "cifar_label")
SUMMARY_CSV_COLUMNS = ("cifar_class", "members", "ancestor", "warning")

_CLASS_KEYS = ("ancestors", "note", "excluded", "imagenet")
_WNID = re.compile(r"n\d{8}")


@functools.cache
def _categories() -> tuple[str, ...]:
    # Imported here: torchvision is slow to import and only this lookup needs it. The names ship
    # inside torchvision (no download) and are shared by all its ImageNet-1k weights.
    from torchvision.models import AlexNet_Weights

    return tuple(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet-1k category names of torchvision's weights, in class-index order."""
    return list(_categories())


@dataclass(frozen=True)
class Ancestor:
    """A WordNet synset a class's members were derived from (documentation only)."""

    wnid: str
    lemma: str


@dataclass(frozen=True)
class Exclusion:
    """A descendant of the ancestors deliberately left out of a class (documentation only)."""

    index: int
    name: str
    reason: str


@dataclass(frozen=True)
class MappedClass:
    """One CIFAR-10 class and the ImageNet-1k classes pooled for it."""

    name: str
    label: int
    indices: tuple[int, ...]
    names: tuple[str, ...]
    ancestors: tuple[Ancestor, ...] = ()
    note: str = ""
    excluded: tuple[Exclusion, ...] = ()


@dataclass(frozen=True)
class ClassMapping:
    """All ten CIFAR-10 classes in label order; ``source`` is the file it was read from."""

    classes: tuple[MappedClass, ...]
    source: str = ""

    def __post_init__(self) -> None:
        names = tuple(c.name for c in self.classes)
        if names != CIFAR10_CLASSES or any(c.label != i for i, c in enumerate(self.classes)):
            raise ValueError(f"classes must be the CIFAR-10 classes in label order, got {names}")

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    @property
    def member_count(self) -> int:
        """Total number of ImageNet classes mapped (222 for the default mapping)."""
        return sum(len(c.indices) for c in self.classes)

    def index_groups(self) -> list[np.ndarray]:
        """Per CIFAR-10 class (label order), its ImageNet indices as an int64 array."""
        return [np.asarray(c.indices, dtype=np.int64) for c in self.classes]

    def imagenet_to_cifar(self) -> np.ndarray:
        """Length-1000 int64 array: the CIFAR-10 label of each ImageNet class, -1 if unmapped."""
        lookup = np.full(NUM_IMAGENET_CLASSES, -1, dtype=np.int64)
        for mapped in self.classes:
            lookup[list(mapped.indices)] = mapped.label
        return lookup


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML would silently keep the last one)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # unhashable key: let the normal constructor report it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (merge the two entries)", key_node.start_mark
            )
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"class mapping file {path} not found: create it (the repository ships "
            "config/class_mapping.yaml) or point the config key class_mapping at your file"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(
            f"cannot read class mapping file {path} ({error}); make it a readable UTF-8 YAML file"
        ) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        context_mark = getattr(error, "context_mark", None)
        if context and context_mark and mark and context_mark.line != mark.line:
            context = f"{context} that starts at line {context_mark.line + 1}"
        detail = f"{context}: {problem}" if context else problem
        raise UserError(
            f"class mapping file {path}{where}: invalid YAML ({detail}); fix the syntax there "
            "(indentation, colons, quotes, brackets)"
        ) from None


def _is_int(value: Any) -> bool:
    # bool is an int subclass in Python; `index: true` is a mistake, not index 1.
    return isinstance(value, int) and not isinstance(value, bool)


class _Checker:
    """Collects every problem in the file so the user can fix them in one go."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        if len(self.problems) == 1:
            raise UserError(f"class mapping file {self.path}: {self.problems[0]}")
        listed = "\n".join(f"  - {p}" for p in self.problems)
        raise UserError(
            f"class mapping file {self.path} has {len(self.problems)} problems:\n{listed}"
        )

    def index_and_name(self, where: str, item: dict[str, Any]) -> tuple[int, str] | None:
        """Check an `{index, name}` pair against torchvision; None if it is unusable."""
        index, name = item.get("index"), item.get("name")
        ok = True
        if "index" not in item:
            self.add(f"{where} has no `index:`; give the ImageNet class index (0..999)")
            ok = False
        elif not _is_int(index):
            self.add(
                f"{where}: index {index!r} is not an integer; write the ImageNet class index "
                "as a plain number 0..999"
            )
            ok = False
        elif not 0 <= index < NUM_IMAGENET_CLASSES:
            self.add(
                f"{where}: index {index} is outside 0..{NUM_IMAGENET_CLASSES - 1}; ImageNet-1k "
                f"has {NUM_IMAGENET_CLASSES} classes, numbered from 0"
            )
            ok = False
        if "name" not in item:
            self.add(f"{where} has no `name:`; give torchvision's category name for the index")
            ok = False
        elif not isinstance(name, str):
            self.add(f'{where}: name {name!r} is not text; quote it, e.g. name: "sorrel"')
            ok = False
        if not ok:
            return None
        categories = _categories()
        expected = categories[index]
        if name != expected:
            hint = ""
            if name in categories:
                hint = f" (torchvision's {name!r} is index {categories.index(name)})"
            self.add(
                f"{where}: index {index} is {expected!r} in torchvision, not {name!r}{hint}; "
                f'set name: "{expected}", or correct the index'
            )
            return None
        return index, name


def _keys_problem(where: str, item: Any, allowed: Iterable[str], example: str) -> str | None:
    if not isinstance(item, dict):
        return f"{where} must be a mapping like {example}, got {item!r}"
    unknown = [k for k in item if k not in allowed]
    if unknown:
        return (
            f"{where} has unknown key(s) {', '.join(map(repr, unknown))}; allowed: "
            f"{', '.join(allowed)}"
        )
    return None


def _list_items(
    check: _Checker,
    where: str,
    key: str,
    raw: Any,
    list_shape: str,
    item_keys: Iterable[str],
    item_example: str,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(item label, item) for each well-formed item of the list under ``key``; the rest reported."""
    if not isinstance(raw, list):
        check.add(f"{where}: `{key}:` must be a list of {list_shape}")
        return
    for i, item in enumerate(raw):
        at = f"{where}, {key} item {i + 1}"
        problem = _keys_problem(at, item, item_keys, item_example)
        if problem:
            check.add(problem)
            continue
        yield at, item


def _parse_class(
    check: _Checker, name: str, entry: Any, owner: dict[int, str]
) -> MappedClass | None:
    where = f"class {name!r}"
    problem = _keys_problem(where, entry, _CLASS_KEYS, "{imagenet: [{index: N, name: ...}]}")
    if problem:
        check.add(problem)
        return None

    ancestors: list[Ancestor] = []
    for at, item in _list_items(
        check,
        where,
        "ancestors",
        entry.get("ancestors") or [],
        "{wnid: nXXXXXXXX, lemma: ...}",
        ("wnid", "lemma"),
        "{wnid: n02374451, lemma: horse}",
    ):
        wnid, lemma = item.get("wnid"), item.get("lemma", "")
        if not isinstance(wnid, str) or not _WNID.fullmatch(wnid):
            check.add(f"{at}: wnid {wnid!r} is not a WordNet id; write 'n' and 8 digits")
            continue
        if not isinstance(lemma, str):
            check.add(f"{at}: lemma {lemma!r} is not text; quote it")
            continue
        ancestors.append(Ancestor(wnid, lemma))

    note = entry.get("note") or ""
    if not isinstance(note, str):
        check.add(f"{where}: `note:` must be text, got {note!r}; quote it")
        note = ""

    members = entry.get("imagenet")
    if "imagenet" not in entry or members is None or members == []:
        check.add(
            f"{where} has no ImageNet members; list at least one "
            '`- {index: N, name: "..."}` under `imagenet:` (every CIFAR-10 class needs one)'
        )
        members = []
    indices: list[int] = []
    names: list[str] = []
    for at, item in _list_items(
        check,
        where,
        "imagenet",
        members,
        '{index: N, name: "..."} items',
        ("index", "name"),
        '{index: 339, name: "sorrel"}',
    ):
        checked = check.index_and_name(at, item)
        if checked is None:
            continue
        index, member_name = checked
        if index in indices:
            check.add(
                f"{where}: index {index} ({member_name!r}) is listed twice; delete one of the lines"
            )
            continue
        if index in owner:
            check.add(
                f"index {index} ({member_name!r}) is in both class {owner[index]!r} and class "
                f"{name!r}; an ImageNet class may belong to one CIFAR-10 class only, delete it "
                "from one of them"
            )
            continue
        owner[index] = name
        indices.append(index)
        names.append(member_name)

    excluded: list[Exclusion] = []
    for at, item in _list_items(
        check,
        where,
        "excluded",
        entry.get("excluded") or [],
        "{index, name, reason} items",
        ("index", "name", "reason"),
        "{index, name, reason}",
    ):
        checked = check.index_and_name(at, item)
        if checked is None:
            continue
        reason = item.get("reason") or ""
        if not isinstance(reason, str):
            check.add(f"{at}: reason {reason!r} is not text; quote it")
            continue
        if checked[0] in indices:
            check.add(
                f"{where}: index {checked[0]} ({checked[1]!r}) is both a member and excluded; "
                "remove it from `imagenet:` or from `excluded:`"
            )
            continue
        excluded.append(Exclusion(checked[0], checked[1], reason))

    return MappedClass(
        name=name,
        label=CIFAR10_CLASSES.index(name),
        indices=tuple(indices),
        names=tuple(names),
        ancestors=tuple(ancestors),
        note=" ".join(note.split()),
        excluded=tuple(excluded),
    )


def load_mapping(path: str | Path) -> ClassMapping:
    """Read and check a class mapping YAML file; UserError listing every problem found."""
    path = Path(path)
    data = _read_yaml(path)
    allowed = ", ".join(CIFAR10_CLASSES)
    if data is None:
        raise UserError(
            f"class mapping file {path} is empty; it needs a `classes:` mapping with one entry "
            f"per CIFAR-10 class ({allowed}); restore it from config/class_mapping.yaml"
        )
    if not isinstance(data, dict) or "classes" not in data:
        raise UserError(
            f"class mapping file {path}: the top level must be a mapping with the single key "
            f"`classes:`, found {sorted(map(str, data)) if isinstance(data, dict) else data!r}; "
            "put the CIFAR-10 class entries under `classes:`"
        )
    check = _Checker(path)
    unknown_top = [k for k in data if k != "classes"]
    if unknown_top:
        check.add(
            f"unknown top-level key(s) {', '.join(map(repr, unknown_top))}; only `classes:` is "
            "allowed, delete them or move class entries under `classes:`"
        )
    classes = data["classes"]
    if not isinstance(classes, dict):
        check.add(
            f"`classes:` must be a mapping from CIFAR-10 class name ({allowed}) to its entry, "
            f"got {type(classes).__name__}"
        )
        check.raise_if_any()

    owner: dict[int, str] = {}
    parsed: dict[str, MappedClass] = {}
    for name, entry in classes.items():
        if name not in CIFAR10_CLASSES:
            check.add(
                f"{name!r} is not a CIFAR-10 class; use one of: {allowed} (rename or delete it)"
            )
            continue
        mapped = _parse_class(check, name, entry, owner)
        if mapped is not None:
            parsed[name] = mapped
    for name in CIFAR10_CLASSES:
        if name not in classes:
            check.add(
                f"CIFAR-10 class {name!r} is missing; add a `{name}:` entry under `classes:` "
                'with at least one `- {index: N, name: "..."}` under `imagenet:`'
            )
    check.raise_if_any()
    return ClassMapping(tuple(parsed[name] for name in CIFAR10_CLASSES), source=str(path))


def _class_warning(mapped: MappedClass) -> str:
    if len(mapped.indices) != 1:
        return ""
    return (
        f"{mapped.name} has only one ImageNet class ({mapped.names[0]!r}, index "
        f"{mapped.indices[0]}): its score rests on that single class"
    )


def mapping_warnings(mapping: ClassMapping) -> list[str]:
    """One line per CIFAR-10 class that pools a single ImageNet class."""
    return [w for w in map(_class_warning, mapping.classes) if w]


def _ancestor_text(mapped: MappedClass) -> str:
    return "; ".join(f"{a.lemma.split(',')[0].strip()} ({a.wnid})" for a in mapped.ancestors)


def _write_csv_atomically(frame: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False)


def write_mapping_csv(mapping: ClassMapping, path: str | Path) -> None:
    """One row per mapped ImageNet class: cifar_class, imagenet_index, imagenet_name, label."""
    rows = [
        (c.name, index, name, c.label)
        for c in mapping.classes
        for index, name in zip(c.indices, c.names, strict=True)
    ]
    _write_csv_atomically(pd.DataFrame(rows, columns=list(MAPPING_CSV_COLUMNS)), path)


def write_mapping_summary(mapping: ClassMapping, path: str | Path) -> None:
    """One row per CIFAR-10 class: cifar_class, members, ancestor, warning (empty if none)."""
    rows = [(c.name, len(c.indices), _ancestor_text(c), _class_warning(c)) for c in mapping.classes]
    _write_csv_atomically(pd.DataFrame(rows, columns=list(SUMMARY_CSV_COLUMNS)), path)
