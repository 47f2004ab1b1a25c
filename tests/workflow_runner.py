"""Runs the real workflow with snakemake in a temporary copy of the repository (shared by tests)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MAPPING_FILE = REPO / "config" / "class_mapping.yaml"  # the shipped class mapping
COPIED = ("Snakefile", "workflow", "config", "profiles", "resources")

# Small enough for two CPU cores: synthetic data, untrained weights, small models.
TEST_CONFIG = {
    "dataset": "synthetic",
    "synthetic_images_per_class": 4,
    "models": ["squeezenet1_1", "mobilenet_v3_small"],
    "weights": "none",
    "batch_size": 16,
    "threads": 1,
    "warmup_batches": 1,
}
# One small model: enough for most end-to-end checks (tests/conftest.py runs it once).
SMALL_CONFIG = {**TEST_CONFIG, "models": ["mobilenet_v3_small"]}
# The small run with both shifted sets (CIFAR-10.1 and CIFAR-10-C stand-ins) added: two
# corruptions at two severities, 30 images a block (tests/conftest.py runs it once).
SHIFTED_SETS_CONFIG = {
    **SMALL_CONFIG,
    "test_sets": ["cifar10", "cifar10.1", "cifar10-c"],
    "corruptions": ["contrast", "pixelate"],
    "severities": [1, 5],
    "shift_limit": 30,
}


def copy_workflow(destination: Path, config: dict | None = None) -> Path:
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source, destination / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, destination / name)
    write_config(destination, config or TEST_CONFIG)
    return destination


def copy_finished_run(source: Path, destination: Path) -> Path:
    """A private copy of a finished run; file times are kept, so nothing in it is stale."""
    shutil.copytree(source, destination, symlinks=True)
    return destination


def write_config(workdir: Path, config: dict) -> None:
    (workdir / "test-config.yaml").write_text(yaml.safe_dump(config))


def snakemake_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(REPO / "workflow")
    env["CUDA_VISIBLE_DEVICES"] = ""  # never touch a GPU from the tests
    return env


def snakemake_command(*args: str) -> list[str]:
    # Targets and other arguments first: --configfile takes every word after it.
    return [
        sys.executable,
        "-m",
        "snakemake",
        *args,
        "--cores",
        "2",
        "--resources",
        "gpu=1",
        "--configfile",
        "test-config.yaml",
        # The cores are given above, so profiles/default/ adds nothing but its notice on stderr,
        # which the tests that compare a one-line error with stderr would have to skip.
        # tests/e2e/test_commands_as_written.py runs the commands with it, as users type them.
        "--workflow-profile",
        "none",
    ]


def snakemake(
    workdir: Path, *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        snakemake_command(*args),
        cwd=workdir,
        env=snakemake_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
        )
    return result


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule name -> number of jobs a dry run would run (from the 'Job stats' table)."""
    result = snakemake(workdir, "--dry-run", *args)
    counts: dict[str, int] = {}
    in_table = False
    for line in (result.stdout + result.stderr).splitlines():
        fields = line.split()
        if line.startswith("Job stats:"):
            in_table = True
            continue
        if in_table and len(fields) == 2 and fields[1].isdigit() and fields[0] != "total":
            counts[fields[0]] = int(fields[1])
        if in_table and fields and fields[0] == "total":
            break
    return counts
