"""bench/compare.py, the evidence for the speed targets: its arithmetic and tables on figures made
up by hand (bench/compare_rows.py), and a tiny CPU run that still measures and reports every part.

Nothing here checks how fast anything is.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from run_files import make_summary
from workflow_runner import REPO

BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def rows():
    spec = importlib.util.spec_from_file_location("compare_rows", BENCH / "compare_rows.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_rows"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _run(rows, c: float | None, loop: float = 1.0, wall: float = 1.0):
    summary = make_summary(end_to_end_images_per_second=c, images_per_second=loop)
    return rows.JobRun(summary, wall_images_per_second=wall, logits_bytes=100)


def _two_rounds(rows):
    """Two rounds in which the per-round best b is another kind than the best median."""
    nchw, onnx = rows.ForwardKind.NCHW, rows.ForwardKind.ONNXRUNTIME
    return rows.model_row(
        "alexnet",
        64,
        None,
        {0: 4.0, 8: 16.0},
        {nchw: [10.0, 30.0], onnx: [20.0, 5.0]},
        {
            "fp32": [_run(rows, 8.0, loop=9.0, wall=7.0), _run(rows, 15.0, loop=4.0, wall=3.0)],
            "fp32-onnxruntime": [_run(rows, None), _run(rows, 3.0)],
        },
    )


def test_a_row_pairs_c_over_b_per_round_and_keeps_the_median_run_whole(rows):
    row = _two_rounds(rows)
    assert [(b.kind, b.median) for b in row.forwards] == [("nchw", 10.0), ("onnxruntime", 5.0)]
    assert row.best_forward.kind == "nchw"
    fp32, onnx = row.variants
    # The lower of two runs stands for the variant, with its own c_loop and c_wall.
    assert (fp32.median.end_to_end, fp32.median.summary.images_per_second) == (8.0, 9.0)
    assert fp32.median.wall_images_per_second == 7.0
    assert onnx.median.end_to_end is None  # a run without timed batches ranks lowest
    assert row.fastest_variant is fp32
    # Round 1: 8 / 20 (its best b is onnxruntime); round 2: 15 / 30. The median is the lower.
    assert row.c_over_best_b_rounds == (0.4, 0.5)
    assert row.c_over_best_b == 0.4


def test_a_round_without_a_c_has_no_ratio(rows):
    row = rows.model_row(
        "alexnet",
        64,
        1.5,
        {},
        {rows.ForwardKind.NCHW: [10.0, 12.0]},
        {"fp32": [_run(rows, None), _run(rows, 6.0)]},
    )
    assert row.c_over_best_b_rounds == (None, 0.5)
    assert row.c_over_best_b == 0.5
    empty = rows.model_row("alexnet", 64, None, {}, {}, {})
    assert (empty.best_forward, empty.fastest_variant, empty.c_over_best_b) == (None, None, None)


def test_the_tables_print_every_figure_of_the_rows(rows, capsys):
    rows.print_report([_two_rounds(rows)], [0, 8], "images/s on a test CPU")
    lines = capsys.readouterr().out.splitlines()
    detail = lines.index("images/s on a test CPU")
    assert lines[detail + 1].split() == [
        "model", "images", "kind", "a(0)", "a(8)", "b", "c_loop", "c", "c_wall",
        "b", "or", "c", "range",
    ]  # fmt: skip
    assert [line.split() for line in lines[detail + 2 : detail + 6]] == [
        ["alexnet", "64", "b", "nchw", "4.0", "16.0", "10.0", "10.0-30.0"],
        ["alexnet", "64", "b", "onnxruntime", "5.0", "5.0-20.0"],
        ["alexnet", "64", "c", "fp32", "9.0", "8.0", "7.0", "8.0-15.0"],
        ["alexnet", "64", "c", "fp32-onnxruntime", "1.0", "-", "1.0", "-"],  # one known c
    ]
    assert [line.split() for line in lines[-2:]] == [
        ["model", "best", "b", "b", "fastest", "variant", "c", "c/b", "c/a(8)"],  # most workers
        ["alexnet", "nchw", "10.0", "fp32", "8.0", "0.40", "0.50x"],
    ]


def test_compare_runs_every_part_and_reports_its_rows(tmp_path: Path) -> None:
    rows_file = tmp_path / "compare.json"
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH / "compare.py"),
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
        env={**os.environ, "PYTHONPATH": str(REPO / "workflow")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    report = json.loads(rows_file.read_text())
    setup = report["setup"]
    assert (setup["device"], setup["precision"], setup["batch_size"]) == ("cpu", "fp32", 8)
    assert setup["rounds"] == 2
    assert setup["prep_images_per_second"] > 0 and setup["write_rows_per_second"] > 0
    [row] = report["rows"]
    assert (row["model"], row["images"]) == ("squeezenet1_1", 12)
    assert row["export_seconds"] > 0
    assert row["lab_report"]["0"] > 0
    assert [b["kind"] for b in row["forwards"]] == ["nchw", "channels_last", "onnxruntime"]
    assert all(len(b["rounds"]) == 2 and min(b["rounds"]) > 0 for b in row["forwards"])
    assert [c["variant"] for c in row["variants"]] == ["fp32", "fp32-onnxruntime"]
    for c in row["variants"]:
        assert len(c["rounds"]) == 2
        for run in c["rounds"]:
            summary = run["summary"]
            assert summary["end_to_end_images_per_second"] > 0
            assert summary["images_per_second"] > 0 and run["wall_images_per_second"] > 0
            assert summary["batch_size"] == 8
            # 12 rows of 1000 float32 logits, compressed losslessly: far over one byte a logit.
            assert run["logits_bytes"] > 12 * 1000
    assert len(row["c_over_best_b_rounds"]) == 2 and row["c_over_best_b"] > 0

    lines = result.stdout.splitlines()
    detail = lines.index(next(line for line in lines if line.startswith("images/s on")))
    kinds = [line.split()[3] for line in lines[detail + 2 : detail + 7]]
    assert kinds == ["nchw", "channels_last", "onnxruntime", "fp32", "fp32-onnxruntime"]
    cells = lines[-1].split()
    assert cells[:2] == ["squeezenet1_1", row["best_forward"]["kind"]]
    assert cells[3] == row["fastest_variant"]["variant"]
    assert cells[-2] == f"{row['c_over_best_b']:.2f}"
