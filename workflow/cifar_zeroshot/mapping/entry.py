"""Check one CIFAR-10 class's entry of the class mapping file into a MappedClass.

Nothing here stops at the first problem: each is added to a `Problems` list so the user can fix
the whole file in one go.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES, NUM_IMAGENET_CLASSES
from cifar_zeroshot.mapping.definition import Ancestor, Exclusion, MappedClass
from cifar_zeroshot.mapping.imagenet_classes import imagenet_categories

__all__ = ["Problems", "parse_class"]

_CLASS_KEYS = ("ancestors", "note", "excluded", "imagenet")
_WNID = re.compile(r"n\d{8}")


# --- problems ------------------------------------------------------------------------------------


class Problems:
    """Collects every problem in the file so the user can fix them in one go."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._found: list[str] = []

    def add(self, problem: str) -> None:
        self._found.append(problem)

    def raise_if_any(self) -> None:
        if not self._found:
            return
        if len(self._found) == 1:
            raise UserError(f"class mapping file {self.path}: {self._found[0]}")
        listed = "\n".join(f"  - {p}" for p in self._found)
        raise UserError(
            f"class mapping file {self.path} has {len(self._found)} problems:\n{listed}"
        )


def _is_int(value: Any) -> bool:
    # bool is an int subclass in Python; `index: true` is a mistake, not index 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _index_and_name_problems(where: str, item: dict[str, Any]) -> list[str]:
    """What makes an `{index, name}` pair unusable before looking it up (empty if nothing)."""
    faults = []
    index, name = item.get("index"), item.get("name")
    if "index" not in item:
        faults.append(f"{where} has no `index:`; give the ImageNet class index (0..999)")
    elif not _is_int(index):
        faults.append(
            f"{where}: index {index!r} is not an integer; write the ImageNet class index "
            "as a plain number 0..999"
        )
    elif not 0 <= index < NUM_IMAGENET_CLASSES:
        faults.append(
            f"{where}: index {index} is outside 0..{NUM_IMAGENET_CLASSES - 1}; ImageNet-1k "
            f"has {NUM_IMAGENET_CLASSES} classes, numbered from 0"
        )
    if "name" not in item:
        faults.append(f"{where} has no `name:`; give torchvision's category name for the index")
    elif not isinstance(name, str):
        faults.append(f'{where}: name {name!r} is not text; quote it, e.g. name: "sorrel"')
    return faults


def _index_and_name(problems: Problems, where: str, item: dict[str, Any]) -> tuple[int, str] | None:
    """Check an `{index, name}` pair against torchvision; None if it is unusable."""
    faults = _index_and_name_problems(where, item)
    if faults:
        for fault in faults:
            problems.add(fault)
        return None
    index, name = item["index"], item["name"]
    categories = imagenet_categories()  # cached; only well-formed pairs need torchvision
    expected = categories[index]
    if name != expected:
        hint = ""
        if name in categories:
            hint = f" (torchvision's {name!r} is index {categories.index(name)})"
        problems.add(
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


@dataclass(frozen=True)
class _ListKey:
    """A key of a class entry that holds a list of mappings, and how messages describe it."""

    key: str
    shape: str  # what the list holds, e.g. "{wnid: nXXXXXXXX, lemma: ...}"
    item_keys: tuple[str, ...]
    item_example: str


_ANCESTORS = _ListKey(
    "ancestors",
    "{wnid: nXXXXXXXX, lemma: ...}",
    ("wnid", "lemma"),
    "{wnid: n02374451, lemma: horse}",
)
_MEMBERS = _ListKey(
    "imagenet", '{index: N, name: "..."} items', ("index", "name"), '{index: 339, name: "sorrel"}'
)
_EXCLUDED = _ListKey(
    "excluded", "{index, name, reason} items", ("index", "name", "reason"), "{index, name, reason}"
)


def _list_items(
    problems: Problems, where: str, list_key: _ListKey, raw: Any
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(item label, item) for each well-formed item of the list ``raw``; the rest reported."""
    if not isinstance(raw, list):
        problems.add(f"{where}: `{list_key.key}:` must be a list of {list_key.shape}")
        return
    for i, item in enumerate(raw):
        at = f"{where}, {list_key.key} item {i + 1}"
        problem = _keys_problem(at, item, list_key.item_keys, list_key.item_example)
        if problem:
            problems.add(problem)
            continue
        yield at, item


def _checked_pairs(
    problems: Problems, where: str, list_key: _ListKey, raw: Any
) -> Iterator[tuple[str, dict[str, Any], int, str]]:
    """(item label, item, index, name) for each item whose `{index, name}` pair checks out."""
    for at, item in _list_items(problems, where, list_key, raw):
        checked = _index_and_name(problems, at, item)
        if checked is not None:
            yield at, item, *checked


# --- one class entry -----------------------------------------------------------------------------


def _ancestors(problems: Problems, where: str, entry: dict[str, Any]) -> tuple[Ancestor, ...]:
    ancestors: list[Ancestor] = []
    for at, item in _list_items(problems, where, _ANCESTORS, entry.get("ancestors") or []):
        wnid, lemma = item.get("wnid"), item.get("lemma", "")
        if not isinstance(wnid, str) or not _WNID.fullmatch(wnid):
            problems.add(f"{at}: wnid {wnid!r} is not a WordNet id; write 'n' and 8 digits")
            continue
        if not isinstance(lemma, str):
            problems.add(f"{at}: lemma {lemma!r} is not text; quote it")
            continue
        ancestors.append(Ancestor(wnid, lemma))
    return tuple(ancestors)


def _note(problems: Problems, where: str, entry: dict[str, Any]) -> str:
    note = entry.get("note") or ""
    if not isinstance(note, str):
        problems.add(f"{where}: `note:` must be text, got {note!r}; quote it")
        return ""
    return " ".join(note.split())


def _members(
    problems: Problems, name: str, entry: dict[str, Any], owner: dict[int, str]
) -> dict[int, str]:
    """The class's ImageNet members (index -> name, file order); claims them in ``owner``."""
    where = f"class {name!r}"
    raw = entry.get("imagenet")
    if "imagenet" not in entry or raw is None or raw == []:
        problems.add(
            f"{where} has no ImageNet members; list at least one "
            '`- {index: N, name: "..."}` under `imagenet:` (every CIFAR-10 class needs one)'
        )
        raw = []
    members: dict[int, str] = {}
    for _, _, index, member_name in _checked_pairs(problems, where, _MEMBERS, raw):
        if index in members:
            problems.add(
                f"{where}: index {index} ({member_name!r}) is listed twice; delete one of the lines"
            )
        elif index in owner:
            problems.add(
                f"index {index} ({member_name!r}) is in both class {owner[index]!r} and class "
                f"{name!r}; an ImageNet class may belong to one CIFAR-10 class only, delete it "
                "from one of them"
            )
        else:
            owner[index] = name
            members[index] = member_name
    return members


def _excluded(
    problems: Problems, where: str, entry: dict[str, Any], members: dict[int, str]
) -> tuple[Exclusion, ...]:
    excluded: list[Exclusion] = []
    raw = entry.get("excluded") or []
    for at, item, index, name in _checked_pairs(problems, where, _EXCLUDED, raw):
        reason = item.get("reason") or ""
        if not isinstance(reason, str):
            problems.add(f"{at}: reason {reason!r} is not text; quote it")
        elif index in members:
            problems.add(
                f"{where}: index {index} ({name!r}) is both a member and excluded; "
                "remove it from `imagenet:` or from `excluded:`"
            )
        else:
            excluded.append(Exclusion(index, name, reason))
    return tuple(excluded)


def parse_class(
    problems: Problems, name: str, entry: Any, owner: dict[int, str]
) -> MappedClass | None:
    """The checked class ``name`` (problems added); None if ``entry`` is not a usable mapping.

    ``owner`` (ImageNet index -> CIFAR-10 class) is shared across classes so that an index claimed
    by two classes is reported.
    """
    where = f"class {name!r}"
    problem = _keys_problem(where, entry, _CLASS_KEYS, "{imagenet: [{index: N, name: ...}]}")
    if problem:
        problems.add(problem)
        return None
    # Problems come in this fixed order (ancestors, note, members, exclusions), whatever the
    # order of the keys in the file.
    ancestors = _ancestors(problems, where, entry)
    note = _note(problems, where, entry)
    members = _members(problems, name, entry, owner)
    excluded = _excluded(problems, where, entry, members)
    return MappedClass(
        name=name,
        label=CIFAR10_CLASSES.index(name),
        indices=tuple(members),
        names=tuple(members.values()),
        ancestors=ancestors,
        note=note,
        excluded=excluded,
    )
