"""bench/probe_fit_timing.py, the evidence for the probe's 60 s budget, still runs and reports
every figure. A tiny run: it checks what the script measures and prints, never how fast."""

import json
import os
import subprocess
import sys
from pathlib import Path

from workflow_runner import REPO

REPOSITORY = REPO


def test_probe_fit_timing_reports_each_width_and_the_float16_difference(tmp_path: Path) -> None:
    figures = tmp_path / "timing.json"
    result = subprocess.run(
        [
            sys.executable,
            str(REPOSITORY / "bench" / "probe_fit_timing.py"),
            "--images=400",
            "--test-images=200",
            "--widths",
            "8",
            "16",
            "--regularisations",
            "0.01",
            "0.1",
            "--max-iterations=20",
            "--threads=1",
            f"--json={figures}",
        ],
        env={**os.environ, "PYTHONPATH": str(REPOSITORY / "workflow")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(figures.read_text())
    # Both widths, and the first again with its features rounded to float16.
    assert [(row["width"], row["storage"]) for row in rows] == [
        (8, "float32"),
        (8, "float16"),
        (16, "float32"),
    ]
    for row in rows:
        assert row["images"] == 400 and row["seconds"] > 0 and row["cpu_seconds"] > 0
        assert row["budget_ratio"] == row["seconds"] / 60
        assert row["regularisation"] in (0.1, 0.01) and len(row["validation_accuracies"]) == 2
        assert all(0 <= n <= 20 for n in row["search_iterations"])
        assert 0.1 < row["test_accuracy"] <= 1 and row["gradient_max"] >= 0
    delta = 100 * (rows[1]["test_accuracy"] - rows[0]["test_accuracy"])
    assert f"float16 - float32 test accuracy: {delta:+.3f} points" in result.stdout
    assert "400 x 16 float32:" in result.stdout and "of the 60 s budget" in result.stdout
