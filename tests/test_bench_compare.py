"""bench/compare.py, the evidence for the speed targets, still runs and reports every part.

A tiny run on the CPU: it checks what the script measures and prints, never how fast anything is.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def test_compare_runs_every_part_and_prints_the_ratios(tmp_path: Path) -> None:
    rows_file = tmp_path / "compare.json"
    result = subprocess.run(
        [
            sys.executable,
            str(REPOSITORY / "bench" / "compare.py"),
            "--device=cpu",
            "--models=squeezenet1_1",
            "--images=12",
            "--batch-size=8",  # 8 + a padded batch of 4
            "--threads=1",
            "--workers",
            "0",
            f"--json={rows_file}",
        ],
        env={**os.environ, "PYTHONPATH": str(REPOSITORY / "workflow")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    report = json.loads(rows_file.read_text())
    setup = report["setup"]
    assert (setup["device"], setup["precision"], setup["batch_size"]) == ("cpu", "fp32", 8)
    assert setup["prep_images_per_second"] > 0 and setup["write_rows_per_second"] > 0
    [row] = report["rows"]
    assert row["model"] == "squeezenet1_1"
    for key in ("a(0)", "b", "c", "c_loop", "c_wall"):
        assert row[key] > 0, key
    assert row["batch_size_used"] == 8
    assert row["logits_bytes"] > 12 * 1000 * 4  # 12 rows of 1000 float32 logits, and more

    header, table_row = result.stdout.splitlines()[-2:]
    assert header.split() == ["model", "a(0)", "b", "c_loop", "c", "c_wall", "c/a(0)", "c/b"]
    cells = table_row.split()
    assert cells[0] == "squeezenet1_1"
    assert cells[-1] == f"{row['c'] / row['b']:.2f}x"
    assert cells[-2] == f"{row['c'] / row['a(0)']:.2f}x"
