"""The prompts of CLIP zero-shot scoring: templates and one wording per CIFAR-10 class, from YAML.

The file (config/clip_prompts.yaml) holds `templates:`, texts with one `{}` each, and `classes:`,
the wording of every CIFAR-10 class. Every problem in it is reported at once, with its fix.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.core.yaml_reading import excerpt, read_yaml_file

__all__ = ["ClipPrompts", "load_prompts", "prompts_digest"]

_KEYS = ("templates", "classes")
_SLOT = "{}"
_ALLOWED_CLASSES = ", ".join(CIFAR10_CLASSES)
_EXAMPLE_TEMPLATE = '"a photo of a {}."'


@dataclass(frozen=True)
class ClipPrompts:
    templates: tuple[str, ...]
    wordings: tuple[str, ...]  # one per class, in CIFAR10_CLASSES order
    source: str = ""

    def texts(self) -> list[list[str]]:
        """Per CIFAR-10 class (in label order), every template filled with the class's wording."""
        return [[t.replace(_SLOT, wording) for t in self.templates] for wording in self.wordings]


def prompts_digest(prompts: ClipPrompts) -> str:
    """SHA-256 of the prompts' canonical JSON: the same for any spelling of the same file."""
    canonical = {
        "templates": list(prompts.templates),
        "classes": dict(zip(CIFAR10_CLASSES, prompts.wordings, strict=True)),
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_yaml(path: Path) -> Any:
    return read_yaml_file(
        path,
        "CLIP prompts file",
        "create it (the repository ships config/clip_prompts.yaml) or point the configuration "
        "at your file",
    )


def _template_problem(number: int, template: Any) -> str | None:
    """Why template ``number`` (1-based) is unusable, or None."""
    if not isinstance(template, str):
        return (
            f"template {number} ({excerpt(template)}) is not text; write it in quotes, "
            f"e.g. {_EXAMPLE_TEMPLATE}"
        )
    slots = template.count(_SLOT)
    if slots != 1:
        found = "no {}" if slots == 0 else f"{{}} {slots} times"
        return (
            f"template {number} ({excerpt(template)}) has {found}; write exactly one {{}} where "
            f"the class wording goes, e.g. {_EXAMPLE_TEMPLATE}"
        )
    if "{" in template.replace(_SLOT, "") or "}" in template.replace(_SLOT, ""):
        return (
            f"template {number} ({excerpt(template)}) has a brace that is not part of {{}}; "
            "delete it (only {} is replaced, by the class wording)"
        )
    return None


def _templates(value: Any, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        found = {"[]": "an empty list", "None": "nothing"}.get(repr(value), excerpt(value))
        problems.append(
            f"`templates:` must be a list of at least one text with one {{}}, found {found}; "
            f"add templates such as - {_EXAMPLE_TEMPLATE}"
        )
        return ()
    first_seen: dict[str, int] = {}
    for number, template in enumerate(value, start=1):
        problem = _template_problem(number, template)
        if problem is None and template in first_seen:
            problem = (
                f"template {number} repeats template {first_seen[template]} "
                f"({excerpt(template)}); delete one (a repeat would count twice in the average)"
            )
        if problem is not None:
            problems.append(problem)
        else:
            first_seen[template] = number
    return tuple(value)


def _wording_problem(name: str, wording: Any) -> str | None:
    if wording is None or (isinstance(wording, str) and not wording.strip()):
        return f"class {name!r} has an empty wording; write the words for it, e.g. `{name}: {name}`"
    if not isinstance(wording, str):
        return (
            f"class {name!r}: wording {excerpt(wording)} is not text; write the words used in "
            f'the prompts in quotes, e.g. `{name}: "{name}"`'
        )
    return None


def _wordings(value: Any, problems: list[str]) -> dict[str, str]:
    if not isinstance(value, dict):
        problems.append(
            f"`classes:` must map every CIFAR-10 class ({_ALLOWED_CLASSES}) to its wording, "
            f"found {excerpt(value)}; write one `<class>: <wording>` line per class"
        )
        return {}
    wordings = {}
    for name, wording in value.items():
        if name not in CIFAR10_CLASSES:
            problems.append(
                f"{excerpt(name)} is not a CIFAR-10 class; use one of: {_ALLOWED_CLASSES} "
                "(rename or delete it)"
            )
        elif (problem := _wording_problem(name, wording)) is not None:
            problems.append(problem)
        else:
            wordings[name] = wording.strip()
    for name in CIFAR10_CLASSES:
        if name not in value:
            problems.append(
                f"CIFAR-10 class {name!r} is missing; add `{name}: <wording>` under `classes:`"
            )
    return wordings


def _sections(path: Path, data: Any) -> dict[Any, Any]:
    """The top-level mapping; stops at once if the file has none."""
    if not isinstance(data, dict):
        found = "it is empty" if data is None else f"found {excerpt(data)}"
        raise UserError(
            f"CLIP prompts file {path} must be a mapping with `templates:` and `classes:`, but "
            f"{found}; restore it from config/clip_prompts.yaml."
        )
    return data


def _raise_if_any(path: Path, problems: list[str]) -> None:
    if len(problems) == 1:
        raise UserError(f"CLIP prompts file {path}: {problems[0]}.")
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise UserError(f"CLIP prompts file {path} has {len(problems)} problems:\n{listed}")


def load_prompts(path: str | Path) -> ClipPrompts:
    """Read and check a prompts file; a UserError lists every problem found, with its fix."""
    path = Path(path)
    data = _sections(path, _read_yaml(path))
    problems = [
        f"unknown key {excerpt(key)}; only `templates:` and `classes:` are allowed, delete it"
        for key in data
        if key not in _KEYS
    ]
    problems += [
        f"`{key}:` is missing; add it (see config/clip_prompts.yaml)"
        for key in _KEYS
        if key not in data
    ]
    templates = _templates(data["templates"], problems) if "templates" in data else ()
    wordings = _wordings(data["classes"], problems) if "classes" in data else {}
    _raise_if_any(path, problems)
    return ClipPrompts(templates, tuple(wordings[name] for name in CIFAR10_CLASSES), str(path))
