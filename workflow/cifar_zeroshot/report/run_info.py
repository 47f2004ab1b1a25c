"""What a reader of the results needs to rerun them: the configuration and the software.

Written as results/run_info.yaml and shown in the report. Library versions are those of the
environment that ran this rule; each inference job's own torch/torchvision versions and device
come from its logits file, since cluster jobs may run elsewhere.
"""

import importlib.metadata
import logging
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.records.failed_run import read_failed_run
from cifar_zeroshot.records.logits import read_logits_facts
from cifar_zeroshot.records.run_facts import RunFacts

log = logging.getLogger(__name__)

PACKAGES: tuple[str, ...] = (
    "torch",
    "torchvision",
    "snakemake",
    "numpy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "nvidia-ml-py",
    "onnxruntime",
    "open-clip-torch",
)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _run_entry(facts: RunFacts) -> dict[str, Any]:
    """What run_info.yaml says about one inference run: where and with what it ran."""
    return {
        "weights": facts.weights,
        "device": facts.device,
        "device_name": facts.device_name,
        "gpu_index": facts.gpu_index,
        "torch_version": facts.torch_version,
        "batch_size": facts.batch_size,
        "torchvision_version": facts.torchvision_version,
    }


def collect_run_info(
    config: Mapping[str, Any],
    logits_paths: Iterable[str | Path],
    collections: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The configuration, each model collection's expansion (collection -> model names; none
    without collections), the software and every run's facts."""
    runs = {}
    for path in logits_paths:
        failure = read_failed_run(path)
        if failure is not None:  # listed with its error (results/failed_runs.csv)
            runs[f"{failure.model}/{failure.variant}"] = {"failed": failure.error}
            continue
        facts = read_logits_facts(path)
        runs[f"{facts.model}/{facts.variant}"] = _run_entry(facts)
    log.info("read the facts of %d inference runs", len(runs))
    expanded = {text: list(models) for text, models in (collections or {}).items()}
    return {
        "configuration": dict(config),
        **({"model_collections": expanded} if expanded else {}),
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
    log.info("wrote the configuration, software versions and run facts to %s", path)
