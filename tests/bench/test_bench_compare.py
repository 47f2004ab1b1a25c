"""bench/compare.py, the evidence for the speed targets, still runs and reports every part.

A tiny run on the CPU: it checks what the script measures and prints, never how fast anything is.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from workflow_runner import REPO

REPOSITORY = REPO


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
            "--forwards",
            "nchw",
            "channels_last",
            "onnxruntime",
            "--variants",
            "fp32",
            "fp32-onnxruntime",
            "--rounds=2",  # the kinds and variants take turns twice
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
    assert row["a"]["0"] > 0
    assert set(row["b"]) == {"nchw", "channels_last", "onnxruntime"}
    assert all(rate > 0 for rate in row["b"].values())
    assert set(row["c"]) == {"fp32", "fp32-onnxruntime"}
    for c in row["c"].values():
        assert c["c"] > 0 and c["c_loop"] > 0 and c["c_wall"] > 0
        assert c["batch_size_used"] == 8
        assert c["logits_bytes"] > 12 * 1000 * 4  # 12 rows of 1000 float32 logits, and more
    assert row["export_seconds"] > 0
    assert row["best_b"] == max(row["b"], key=row["b"].get)
    assert row["best_c"] == max(row["c"], key=lambda name: row["c"][name]["c"])
    best_c = row["c"][row["best_c"]]["c"]
    # Two rounds: the lower of the two is the median reported; c/b is paired per round.
    assert all(len(rates) == 2 for rates in row["b_rounds"].values())
    assert all(len(runs) == 2 for runs in row["c_rounds"].values())
    assert row["b"]["nchw"] == min(row["b_rounds"]["nchw"])
    assert best_c == max(min(run["c"] for run in runs) for runs in row["c_rounds"].values())
    per_round = [
        max(runs[i]["c"] for runs in row["c_rounds"].values())
        / max(rates[i] for rates in row["b_rounds"].values())
        for i in range(2)
    ]
    assert row["c_over_best_b_rounds"] == per_round
    assert row["c_over_best_b"] == min(per_round)
    assert setup["rounds"] == 2

    lines = result.stdout.splitlines()
    detail = lines.index(next(line for line in lines if line.startswith("images/s on")))
    assert lines[detail + 1].split() == [
        "model", "images", "kind", "a(0)", "b", "c_loop", "c", "c_wall", "b", "or", "c", "range"
    ]  # fmt: skip
    kinds = [line.split()[3] for line in lines[detail + 2 : detail + 7]]
    assert kinds == ["nchw", "channels_last", "onnxruntime", "fp32", "fp32-onnxruntime"]
    header, summary = lines[-2:]
    assert header.split() == ["model", "best", "b", "b", "fastest", "variant", "c", "c/b", "c/a(0)"]
    cells = summary.split()
    assert cells[:2] == ["squeezenet1_1", row["best_b"]]
    assert cells[3] == row["best_c"]
    assert cells[-2] == f"{row['c_over_best_b']:.2f}"
    assert cells[-1] == f"{best_c / row['a']['0']:.2f}x"
