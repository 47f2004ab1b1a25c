"""The import rule between the subpackages (pyproject.toml's import-linter contracts) holds, and
an import against it fails the check with a message that names the import."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_runner import REPO

PACKAGE = REPO / "workflow" / "cifar_zeroshot"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the package copied under ``root`` (its own pyproject.toml)."""
    script = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(script), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root / "workflow"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "workflow" / "cifar_zeroshot")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_the_import_rule(package_copy: Path) -> None:
    result = _lint_imports(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        ("core/errors.py", "cifar_zeroshot.report.summary", "Stages import only"),
        ("data/checksums.py", "cifar_zeroshot.mapping.definition", "Stages import only"),
        ("inference/clock.py", "cifar_zeroshot.report.plots", "Stages import only"),
        ("analysis/evaluation.py", "cifar_zeroshot.report.summary", "Stages import only"),
        ("methods/probe/settings.py", "cifar_zeroshot.methods.clip.prompts", "never import"),
    ],
)
def test_an_import_against_the_rule_fails_and_is_named(
    package_copy: Path, importer: str, imported: str, contract: str
) -> None:
    module = package_copy / "workflow" / "cifar_zeroshot" / importer
    module.write_text(module.read_text() + f"\nimport {imported}  # noqa\n")
    result = _lint_imports(package_copy)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout
    importer_module = "cifar_zeroshot." + importer.removesuffix(".py").replace("/", ".")
    assert f"{importer_module} -> {imported}" in result.stdout, result.stdout
