"""bench/job_fixed_cost.py, the evidence for an inference job's fixed cost: a tiny CPU job still
reports every phase, and the phases add up to the process; a finished run's timing file is read
as recorded. It checks what the script reports, never how fast anything is."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from run_files import make_facts, make_summary, timing_batches
from workflow_runner import REPO

from cifar_zeroshot.records.logits import write_timing


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "job_fixed_cost.py"), *args],
        env={**os.environ, "PYTHONPATH": str(REPO / "workflow")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _rows(stdout: str) -> dict[str, tuple[float, float]]:
    rows = {}
    for line in stdout.splitlines():
        match = re.match(r"\| \**(.+?)\** \| \**([\d.]+)\** \| ([\d.]+) %", line)
        if match:
            rows[match[1]] = (float(match[2]), float(match[3]))
    return rows


def test_a_job_reports_every_phase_and_they_add_up_to_the_process(tmp_path: Path) -> None:
    images = tmp_path / "test_set.npz"
    rng = np.random.default_rng(0)
    np.savez(
        images,
        images=rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8),
        labels=(np.arange(12) % 10).astype(np.uint8),
    )
    result = _run(
        "--model=mobilenet_v3_small",
        f"--images={images}",
        "--limit=8",
        "--batch-size=4",
        "--threads=1",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = _rows(result.stdout)
    for phase in (
        "interpreter start",
        "imports (the inference script's)",
        "model build and weights, to the device",
        "parameter and FLOP count",
        "warm-up batches (1)",
        "timed batches (8 images)",
        "the process",
    ):
        assert phase in rows, phase
    total = rows.pop("the process")[0]
    # Each row is printed to the millisecond.
    assert sum(seconds for seconds, _ in rows.values()) == pytest.approx(total, abs=0.01)
    assert all(seconds >= 0 for seconds, _ in rows.values())
    assert "fixed cost (all but the timed batches)" in result.stdout


def test_timing_files_give_the_recorded_phases(tmp_path: Path) -> None:
    path = tmp_path / "fp32.parquet"
    summary = make_summary(startup_seconds=3.0, model_load_seconds=1.0, compile_seconds=None)
    batches = timing_batches(40)
    write_timing(path, batches, make_facts("alexnet", image_count=40), summary)
    result = _run("--timing", str(path))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = _rows(result.stdout)
    timed = float(batches.loc[~batches["warmup"], "total_seconds"].sum())
    assert rows["start-up (interpreter, imports, Snakemake's preamble)"][0] == 3.0
    assert rows["model load (build, weights, to the device)"][0] == 1.0
    timed_row = next(name for name in rows if name.startswith("timed batches"))
    assert abs(rows[timed_row][0] - timed) < 0.001
    shares = [share for name, (_, share) in rows.items() if name != "these phases"]
    assert sum(shares) == pytest.approx(100.0, abs=0.3)  # each to 0.1 %
