"""Reading the project's YAML files safely: no aliases, unique keys, errors with their line.

Aliases are refused rather than expanded: a few kilobytes of nested aliases expand to gigabytes
(a "billion laughs" file), and none of the project's files needs them. Duplicate keys are
refused because YAML would silently keep the last one. Error messages quote at most a short
excerpt of a value, however large the value is.
"""

import reprlib
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from cifar_zeroshot.core.errors import UserError

# The project's YAML files are a few kilobytes (the class mapping about 14 KB): a larger file is
# not one of them, and reading it whole (a device such as /dev/zero never ends) would eat memory.
MAX_YAML_BYTES = 2**20

_EXCERPT = reprlib.Repr()
_EXCERPT.maxstring = 60
_EXCERPT.maxother = 60
_EXCERPT.maxlist = _EXCERPT.maxdict = _EXCERPT.maxtuple = _EXCERPT.maxset = 6
_EXCERPT.maxlevel = 3


def excerpt(value: Any) -> str:
    """repr() of a value, shortened with '...' so that a message stays a few lines long."""
    return _EXCERPT.repr(value)


class _AliasRefused(yaml.YAMLError):
    def __init__(self, mark: yaml.Mark | None) -> None:
        super().__init__("aliases (*name) are not allowed")
        self.problem_mark = mark
        self.problem = "an alias (*name); write the value out instead of referring to an anchor"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases, duplicate mapping keys or octal-looking integers."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            raise _AliasRefused(self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # an unhashable key: the normal constructor reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {excerpt(key)} (merge the two entries)",
                key_node.start_mark,
            )
    return loader.construct_mapping(node)


def _construct_decimal_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    # YAML 1.1 reads 010 as octal 8, so an index written with a leading zero would silently
    # name another class.
    text = str(node.value).replace("_", "").lstrip("+-")
    if len(text) > 1 and text.startswith("0") and text[1:].isdigit():
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{node.value} has a leading zero, which YAML reads as an octal number "
            f"({loader.construct_yaml_int(node)}); write it without the zero",
            node.start_mark,
        )
    return loader.construct_yaml_int(node)


StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)
StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_decimal_int)


def yaml_problem(error: yaml.YAMLError) -> str:
    """'at line L, column C: problem' for a YAML error, as precise as PyYAML can say."""
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(error, "problem", None) or str(error)
    return f"{where}: {problem}"


def _read_capped(path: Path, what: str, missing_fix: str) -> str:
    """The text of a regular file of at most MAX_YAML_BYTES; a UserError names anything else."""
    try:
        # stat before opening: opening a FIFO would wait for a writer.
        if not stat.S_ISREG(path.stat().st_mode):
            raise UserError(
                f"{what} {path} is not a regular file (it is a folder, device or pipe); point "
                "the configuration at the YAML file itself"
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_YAML_BYTES + 1)
        if len(data) > MAX_YAML_BYTES:
            raise UserError(
                f"{what} {path} is larger than {MAX_YAML_BYTES // 2**20} MiB, far more than a "
                f"{what} holds; point the configuration at the right file"
            )
        return data.decode("utf-8")
    except FileNotFoundError:
        raise UserError(f"{what} {path} not found: {missing_fix}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(
            f"cannot read {what} {path} ({error}); make it a readable UTF-8 YAML file"
        ) from None


def read_yaml_file(
    path: Path,
    what: str,
    missing_fix: str,
    invalid_text: Callable[[yaml.YAMLError], str] | None = None,
) -> Any:
    """A project YAML file (``what``, e.g. "class mapping file"), read with StrictLoader.

    A missing, unreadable, non-regular or oversized file (over MAX_YAML_BYTES), or invalid
    YAML, is a UserError naming the file and the fix; ``invalid_text`` words the invalid-YAML
    message where the file's own hint helps.
    """
    text = _read_capped(path, what, missing_fix)
    try:
        return yaml.load(text, Loader=StrictLoader)
    except yaml.YAMLError as error:
        if invalid_text is not None:
            raise UserError(invalid_text(error)) from None
        raise UserError(
            f"{what} {path}: invalid YAML{yaml_problem(error)}; fix the syntax there"
        ) from None
