"""Planning the demo (probe, CLIP and timm on) reads what it needs from the per-version caches:
after the first run it imports neither torch, open_clip nor timm (a dry run then takes seconds,
not 12)."""

import os
import subprocess
import sys
from pathlib import Path

from workflow_runner import REPO

# What workflow/rules/common.smk does at every snakemake start, for the demo preset.
PLAN_THE_DEMO = """
import sys
from snakemake.utils import validate
from cifar_zeroshot.config.schema import check_against_schema, load_config_file
from cifar_zeroshot.config.planning import plan_workflow
schema = "workflow/schemas/config.schema.yaml"
config = load_config_file("config/presets/demo.yaml")
for key, value in load_config_file("config/config.yaml").items():
    config.setdefault(key, value)
check_against_schema(config, schema)
validate(config, schema)
plan = plan_workflow(config)
print(sorted(plan.probe_runs), *(name in sys.modules for name in ("torch", "open_clip", "timm")))
"""


def _plan(cache: Path) -> str:
    env = {**os.environ, "CIFAR_ZEROSHOT_CACHE": str(cache), "PYTHONPATH": str(REPO / "workflow")}
    return subprocess.run(
        [sys.executable, "-c", PLAN_THE_DEMO],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_a_second_planning_of_the_demo_imports_neither_torch_nor_open_clip(tmp_path: Path):
    first, second = _plan(tmp_path), _plan(tmp_path)
    probed = (
        "[('alexnet', 'fp32'), ('mobilenet_v3_small', 'fp32'), ('timm-test_vit.r160_in1k', 'fp32')]"
    )
    assert first == f"{probed} True True True"  # built the caches
    assert second == f"{probed} False False False"
    assert sorted(path.name.split("-")[0] for path in tmp_path.glob("*.json")) == [
        "open_clip",
        "timm",
        "torchvision",
        "torchvision",
    ]
