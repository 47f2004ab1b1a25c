"""Test sets from a user's files, as entries of config ``test_sets`` beside the built-in names.

``{name, path}``: a folder of PNG/JPEG images in one subfolder per CIFAR-10 class;
``{name, images[, labels]}``: NumPy arrays (data.user_image_sets). ``title`` names the set in
tables and figures (default: its name). Planning checks every entry (names, files, headers,
labels, sizes) and registers it as a TestSet built by the generic rule registered_test_set, its
sources every file read, so a changed file rebuilds the set and reruns what scored it. Job
processes register the same entries again from the config (register_configured_sets), without
the checks, since the registry is per process.
"""

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.test_sets import TEST_SETS, TestSet, register_user_sets
from cifar_zeroshot.data.user_image_sets import (
    check_image_arrays,
    check_image_folder,
    folder_images,
    read_image_arrays,
    read_image_folder,
)

# A name is a folder under results/ and data/, and part of wildcard values: no separators, no
# leading dot, nothing a shell or a regular expression would treat specially.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def entry_name(entry: str | Mapping[str, Any]) -> str:
    """The set's name, whichever form its test_sets entry has."""
    return entry if isinstance(entry, str) else str(entry["name"])


def _where(name: str) -> str:
    return f"config key 'test_sets' entry {name!r}"


def _build(spec: Mapping[str, Any], images: int | None) -> TestSet:
    """The registry entry of one user set (its files listed now)."""
    name = str(spec["name"])
    if "path" in spec:
        folder = Path(spec["path"])
        files = folder_images(folder) if folder.is_dir() else []
        inputs = {f"image{number}": str(path) for number, path in enumerate(files)}
        reader, count = read_image_folder, len(files)
    else:
        inputs = {"images": str(spec["images"])}
        if spec.get("labels") is not None:
            inputs["labels"] = str(spec["labels"])
        reader, count = read_image_arrays, images
    return TestSet(
        name,
        str(spec.get("title") or name),
        count,
        "shift_limit",
        sources=lambda dataset: dict(inputs),
        reader=reader,
        source_digest="sha256",
        user=True,
    )


def _check(spec: Mapping[str, Any]) -> tuple[list[str], int | None]:
    """The problems of one user set's files, and its image count (arrays) where known."""
    name = str(spec["name"])
    if "path" in spec:
        return [f"{_where(name)}: {p}" for p in check_image_folder(Path(spec["path"]))], None
    labels = spec.get("labels")
    try:
        count = check_image_arrays(Path(spec["images"]), None if labels is None else Path(labels))
    except UserError as error:
        return [f"{_where(name)}: {error}"], None
    return [], count


def _name_problems(entries: Sequence[str | Mapping[str, Any]]) -> list[str]:
    """Names that would clash under results/ or are not safe folder names."""
    problems = []
    built_in = [name for name, entry in TEST_SETS.items() if not entry.user]
    names = [entry_name(entry) for entry in entries]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(
            f"config key 'test_sets': {name!r} is listed {names.count(name)} times, and each "
            "set's results go into a folder of its name. Fix: give each entry its own name."
        )
    for entry in entries:
        if isinstance(entry, str):
            continue
        name = entry_name(entry)
        if name in built_in:
            problems.append(
                f"{_where(name)}: {name!r} is a built-in test set's name, and its results "
                "would share that set's folders. Fix: name your set otherwise, e.g. "
                f"'my-{name}'."
            )
        elif not SAFE_NAME.fullmatch(name):
            problems.append(
                f"{_where(name)}: the name is a folder under results/ and data/, so it must be "
                "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit. Fix: "
                "rename it, e.g. 'my-photos'."
            )
    return problems


def register_checked_sets(
    entries: Sequence[str | Mapping[str, Any]], problems: list[str]
) -> list[str]:
    """Check the user sets among ``entries`` (each problem to ``problems``) and register them
    (planning). Returns their names."""
    register_user_sets([])  # a plan of its own: another configuration's sets are dropped first
    name_problems = _name_problems(entries)
    problems += name_problems
    if name_problems:
        return []
    built = []
    for spec in (entry for entry in entries if not isinstance(entry, str)):
        found, count = _check(spec)
        problems += found
        if not found:
            built.append(_build(spec, count))
    register_user_sets(built)
    return [entry.name for entry in built]


def register_configured_sets(config: Mapping[str, Any]) -> None:
    """Register the config's user sets unchecked: for a job, whose config planning checked."""
    register_user_sets(
        [_build(spec, None) for spec in config["test_sets"] if not isinstance(spec, str)]
    )
