"""The whole workflow as a user runs it, timed: wall time from the command to `rule all`, and
per inference job where the time went.

    python bench/workflow_timing.py --configfile config/presets/demo.yaml
    python bench/workflow_timing.py --config dataset=synthetic synthetic_images_per_class=1000 \
        weights=none device=cuda --json timing.json

The workflow runs in a fresh copy of the repository's workflow (so nothing is cached from an
earlier run) under a temporary folder, or under --workdir. Per job, from its timing file:

- startup: process start to the start of the job's work (interpreter, imports, Snakemake's
  script preamble);
- load: model built, weights loaded, model and test set moved to the device;
- warm-up: the untimed batches, torch.compile's compilation included;
- loop: the timed batches;
- flush: from the end of the loop until the logits file is complete on disk;
- energy: the GPU's energy over the timed loop (NVML), where it can be read.

It prints what it measured and asserts nothing.
"""

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from cifar_zeroshot.records.logits import read_timing  # noqa: E402

COPIED = ("Snakefile", "workflow", "config", "profiles")


@dataclass(frozen=True)
class JobPhases:
    job: str
    images: int
    startup_s: float
    load_s: float
    warmup_s: float
    loop_s: float
    flush_s: float | None
    images_per_second: float | None  # end to end
    gpu_energy_j: float | None


def job_phases(timing_path: Path) -> JobPhases:
    timing = read_timing(timing_path)
    rows, summary, facts = timing.batches, timing.summary, timing.facts
    warmup = rows["warmup"].astype(bool)
    loop_s = float(rows.loc[~warmup, "total_seconds"].sum())
    rate = summary.end_to_end_images_per_second
    flush_s = facts.image_count / rate - loop_s if rate else None
    return JobPhases(
        job=f"{facts.model}/{facts.variant}",
        images=facts.image_count,
        startup_s=summary.startup_seconds,
        load_s=summary.model_load_seconds,
        warmup_s=float(rows.loc[warmup, "total_seconds"].sum()),
        loop_s=loop_s,
        flush_s=flush_s,
        images_per_second=rate,
        gpu_energy_j=summary.gpu_energy_joules,
    )


def run_workflow(workdir: Path, snakemake_args: list[str]) -> float:
    """Copy the workflow into ``workdir``, run it, and return the wall time in seconds."""
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, workdir / name)
    command = [sys.executable, "-m", "snakemake", "--cores", "all", "--resources", "gpu=1"]
    began = time.perf_counter()
    subprocess.run([*command, *snakemake_args], cwd=workdir, check=True)
    return time.perf_counter() - began


def _cell(value: float | None, digits: int = 2) -> str:
    return "" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def print_table(wall_s: float, jobs: list[JobPhases]) -> None:
    print(f"\nwhole workflow: {wall_s:.1f} s wall, {len(jobs)} inference jobs")
    header = "job | images | startup s | load s | warm-up s | loop s | flush s | img/s | GPU J"
    print(header)
    print("|".join(["---"] * len(header.split("|"))))
    for job in jobs:
        print(
            " | ".join(
                [
                    job.job,
                    str(job.images),
                    _cell(job.startup_s),
                    _cell(job.load_s),
                    _cell(job.warmup_s),
                    _cell(job.loop_s),
                    _cell(job.flush_s, 3),
                    _cell(job.images_per_second, 0),
                    _cell(job.gpu_energy_j, 1),
                ]
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", nargs="*", default=[], help="passed to snakemake")
    parser.add_argument("--config", nargs="*", default=[], help="key=value, passed to snakemake")
    parser.add_argument("--workdir", type=Path, help="run here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    snakemake_args = []
    if args.configfile:
        snakemake_args += ["--configfile", *(str(Path(c).resolve()) for c in args.configfile)]
    if args.config:
        snakemake_args += ["--config", *args.config]
    with tempfile.TemporaryDirectory(prefix="workflow-timing-") as temp:
        workdir = args.workdir or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        wall_s = run_workflow(workdir, snakemake_args)
        jobs = [job_phases(path) for path in sorted(workdir.glob("results/timing/*/*/*.parquet"))]
    print_table(wall_s, jobs)
    if args.json:
        figures = {"wall_seconds": wall_s, "jobs": [asdict(job) for job in jobs]}
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
