"""Runtimes are told apart by the runtime table's facts, not by their names: no comparison with a
runtime name literal ("torch", "onnxruntime") outside the table module."""

import re
from pathlib import Path

import pytest
from workflow_runner import REPO

SCANNED = ("workflow/cifar_zeroshot", "workflow/rules", "workflow/scripts")
TABLE_MODULES = {"workflow/cifar_zeroshot/core/runtime_table.py"}
_NAME = r"""(?:"(?:torch|onnxruntime)"|'(?:torch|onnxruntime)')"""
_OPERATOR = r"(?:==|!=|\bis\b|\bnot\s+in\b|\bin\b)"
# name == x, x != name, x in name, x [not] in ("torch", ...), case "torch":
_COMPARISON = re.compile(
    rf"{_OPERATOR}\s*{_NAME}|{_NAME}\s*{_OPERATOR}|\bin\s*[(\[{{][^)\]}}]*{_NAME}|\bcase\s+{_NAME}"
)


def name_comparisons(path: Path, shown_as: str) -> list[str]:
    """Each line of ``path`` that compares with a runtime name literal, as 'file:line: text'."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        f"{shown_as}:{number}: {line.strip()}"
        for number, line in enumerate(lines, start=1)
        if _COMPARISON.search(line.split("#", 1)[0])
    ]


def test_no_runtime_name_is_compared_outside_the_table() -> None:
    found = []
    for folder in SCANNED:
        for path in sorted((REPO / folder).rglob("*")):
            shown_as = path.relative_to(REPO).as_posix()
            if path.suffix in (".py", ".smk") and shown_as not in TABLE_MODULES:
                found += name_comparisons(path, shown_as)
    assert not found, "ask core.runtime_table instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        'if variant.runtime == "torch":',
        "    return variant.runtime != 'onnxruntime'",
        'elif "torch" not in _as_list(config["runtime"]):',
        'keep = [v for v in variants if v.runtime in ("torch", "onnxruntime")]',
        'x = runtime is "torch"',
        '    case "onnxruntime":',
    ],
)
def test_a_comparison_is_found_with_its_file_and_line(tmp_path: Path, line: str) -> None:
    module = tmp_path / "module.py"
    module.write_text(f"import torch\n{line}\n")
    assert name_comparisons(module, "m.py") == [f"m.py:2: {line.strip()}"]


def test_names_outside_comparisons_are_not_found(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        'PACKAGES = (\n    "torch",\n    "onnxruntime",\n)\n'
        'LOADERS = {"torch": load_torch}\n'
        'version = {"torch": torch.__version__}  # x == "torch" in a comment\n'
    )
    assert name_comparisons(module, "m.py") == []
