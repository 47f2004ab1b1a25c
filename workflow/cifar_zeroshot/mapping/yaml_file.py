"""Read the class mapping YAML file (errors name the line) and check it into a ClassMapping."""

import logging
from pathlib import Path
from typing import Any

import yaml

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.core.yaml_reading import read_yaml_file
from cifar_zeroshot.mapping.definition import ClassMapping, MappedClass
from cifar_zeroshot.mapping.entry import Problems, parse_class

__all__ = ["load_mapping"]

log = logging.getLogger(__name__)

_ALLOWED_CLASSES = ", ".join(CIFAR10_CLASSES)


# --- YAML syntax ---------------------------------------------------------------------------------


def _yaml_error_text(path: Path, error: yaml.YAMLError) -> str:
    """The parser's complaint with the line (and where an unclosed construct opened)."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark and mark and context_mark.line != mark.line:
        context = f"{context} that starts at line {context_mark.line + 1}"
    detail = f"{context}: {problem}" if context else problem
    return (
        f"class mapping file {path}{where}: invalid YAML ({detail}); fix the syntax there "
        "(indentation, colons, quotes, brackets)"
    )


def _read_yaml(path: Path) -> Any:
    return read_yaml_file(
        path,
        "class mapping file",
        "create it (the repository ships config/class_mapping.yaml) or point the config key "
        "class_mapping at your file",
        lambda error: _yaml_error_text(path, error),
    )


# --- the whole file ------------------------------------------------------------------------------


def _classes_section(path: Path, data: Any, problems: Problems) -> dict[Any, Any]:
    """The `classes:` mapping; stops at once if the file has no usable one."""
    if data is None:
        raise UserError(
            f"class mapping file {path} is empty; it needs a `classes:` mapping with one entry "
            f"per CIFAR-10 class ({_ALLOWED_CLASSES}); restore it from config/class_mapping.yaml"
        )
    if not isinstance(data, dict) or "classes" not in data:
        raise UserError(
            f"class mapping file {path}: the top level must be a mapping with the single key "
            f"`classes:`, found {sorted(map(str, data)) if isinstance(data, dict) else data!r}; "
            "put the CIFAR-10 class entries under `classes:`"
        )
    unknown_top = [k for k in data if k != "classes"]
    if unknown_top:
        problems.add(
            f"unknown top-level key(s) {', '.join(map(repr, unknown_top))}; only `classes:` is "
            "allowed, delete them or move class entries under `classes:`"
        )
    classes = data["classes"]
    if not isinstance(classes, dict):
        problems.add(
            f"`classes:` must be a mapping from CIFAR-10 class name ({_ALLOWED_CLASSES}) to its "
            f"entry, got {type(classes).__name__}"
        )
        problems.raise_if_any()
    return classes


def _parse_classes(problems: Problems, classes: dict[Any, Any]) -> dict[str, MappedClass]:
    owner: dict[int, str] = {}  # ImageNet index -> the CIFAR-10 class that claimed it first
    parsed: dict[str, MappedClass] = {}
    for name, entry in classes.items():
        if name not in CIFAR10_CLASSES:
            problems.add(
                f"{name!r} is not a CIFAR-10 class; use one of: {_ALLOWED_CLASSES} "
                "(rename or delete it)"
            )
            continue
        mapped = parse_class(problems, name, entry, owner)
        if mapped is not None:
            parsed[name] = mapped
    for name in CIFAR10_CLASSES:
        if name not in classes:
            problems.add(
                f"CIFAR-10 class {name!r} is missing; add a `{name}:` entry under `classes:` "
                'with at least one `- {index: N, name: "..."}` under `imagenet:`'
            )
    return parsed


def load_mapping(path: str | Path) -> ClassMapping:
    """Read and check a class mapping YAML file; UserError listing every problem found."""
    path = Path(path)
    problems = Problems(path)
    classes = _classes_section(path, _read_yaml(path), problems)
    parsed = _parse_classes(problems, classes)
    problems.raise_if_any()
    mapping = ClassMapping(tuple(parsed[name] for name in CIFAR10_CLASSES), source=str(path))
    log.info("class mapping %s: %d ImageNet classes mapped", path, mapping.member_count)
    return mapping
