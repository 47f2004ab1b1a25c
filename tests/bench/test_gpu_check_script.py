"""bench/gpu_check.sh runs only on a lent GPU machine, so its Python is checked here: every
embedded script compiles, imports only names the package has, and builds inference requests
with fields InferenceRequest has (a renamed field would otherwise fail on the GPU, at a cost)."""

import ast
import dataclasses
import importlib
import re

import pytest
from workflow_runner import REPO

from cifar_zeroshot.inference.request import InferenceRequest

SCRIPT = REPO / "bench" / "gpu_check.sh"
HEREDOC = re.compile(r"python3 -[^\n]*<<'PY'\n(.*?)\nPY\n", re.S)
FIELDS = {field.name for field in dataclasses.fields(InferenceRequest)}


def _snippets() -> list[ast.Module]:
    sources = HEREDOC.findall(SCRIPT.read_text())
    assert len(sources) >= 4, "the heredoc pattern no longer matches bench/gpu_check.sh"
    return [ast.parse(source) for source in sources]


@pytest.mark.parametrize("number", range(4))
def test_each_embedded_script_imports_what_the_package_has(number):
    tree = _snippets()[number]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module.startswith("cifar_zeroshot"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module} has no {alias.name}"


def _request_keywords(tree: ast.Module) -> list[str]:
    """Keywords of InferenceRequest(...) and of dataclasses.replace(request, ...) calls."""
    names = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = ast.unparse(node.func)
        if func in ("InferenceRequest", "dataclasses.replace"):
            names += [keyword.arg for keyword in node.keywords if keyword.arg]
    return names


def test_every_request_field_the_script_sets_exists():
    used = [name for tree in _snippets() for name in _request_keywords(tree)]
    assert "images" in used and "logits_path" in used
    assert sorted(set(used) - FIELDS) == []
