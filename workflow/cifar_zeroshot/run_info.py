"""What a reader of the results needs to rerun them: the configuration and the software.

Written as results/run_info.yaml and shown in the report. Library versions are those of the
environment that ran this rule; each inference job's own torch/torchvision versions and device
come from its logits file, since cluster jobs may run elsewhere.
"""

import importlib.metadata
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from cifar_zeroshot.atomic import atomic_path
from cifar_zeroshot.logits_io import read_logits_facts

PACKAGES: tuple[str, ...] = (
    "torch",
    "torchvision",
    "snakemake",
    "numpy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "nvidia-ml-py",
)
_RUN_FACTS = ("weights", "device", "device_name", "gpu_index", "torch_version", "batch_size")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def collect_run_info(config: Mapping[str, Any], logits_paths: Iterable[str | Path]) -> dict:
    runs = {}
    for path in logits_paths:
        facts = read_logits_facts(path)
        runs[f"{facts['model']}/{facts['variant']}"] = {
            key: facts.get(key) for key in (*_RUN_FACTS, "torchvision_version")
        }
    return {
        "configuration": dict(config),
        "software": {
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            **{package: _version(package) for package in PACKAGES},
        },
        "inference_runs": runs,
    }


def write_run_info(path: str | Path, info: Mapping[str, Any]) -> None:
    with atomic_path(path) as temp:
        temp.write_text(yaml.safe_dump(dict(info), sort_keys=False), encoding="utf-8")
