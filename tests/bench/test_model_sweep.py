"""bench/model_sweep.py on three tiny timm models: each row says where the model fails, if it
does, and the kinds table counts them. Two are the failures the sweep found in the workflow
(a FLOP count that asserted, a channels_last conversion of rank-5 weights), now run through."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
from workflow_runner import REPO

MODELS = "timm:test_vit3.r160_in1k", "timm:test_vit.r160_in1k"


def _sweep(tmp_path: Path, *args: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    out = tmp_path / "sweep.csv"
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "model_sweep.py"), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return (
        pd.read_csv(out, keep_default_na=False),
        pd.read_csv(out.with_suffix(".kinds.csv")),
        result.stdout,
    )


def test_tiny_models_run_end_to_end_with_flops_and_export(tmp_path: Path) -> None:
    rows, kinds, printed = _sweep(tmp_path, "--pattern", "timm:test_vit*")
    assert set(MODELS) <= set(rows["model"])
    assert set(rows["status"]) == {"ran"}
    assert (rows["flops_error"] == "").all() and (rows["gflops"].astype(float) > 0).all()
    assert (rows["export_error"] == "").all()
    assert set(rows["memory_format"]) == {"channels_last"}
    assert kinds.empty
    assert f"tried: {len(rows)}" in printed and f"ran: {len(rows)}" in printed


def test_a_model_with_rank_5_weights_runs_in_its_own_format(tmp_path: Path) -> None:
    rows, kinds, _ = _sweep(
        tmp_path, "--pattern", "timm:lambda_resnet26t*", "--no-export", "--sample", "1"
    )
    assert list(rows["model"]) == ["timm:lambda_resnet26t.c1_in1k"]
    assert list(rows["status"]) == ["ran"]
    assert list(rows["memory_format"]) == ["contiguous"]
    assert kinds.empty


def test_failures_are_counted_by_stage_and_kind_with_examples(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    import model_sweep

    rows = pd.DataFrame(
        [
            model_sweep.SweepRow(
                "a", "timm", status="failed", stage="forward", kind="RuntimeError", error="x"
            ).__dict__,
            model_sweep.SweepRow(
                "b", "timm", status="failed", stage="forward", kind="RuntimeError", error="y"
            ).__dict__,
            model_sweep.SweepRow("c", "timm", flops_error="AssertionError: z").__dict__,
            model_sweep.SweepRow("d", "torchvision", export_error="TypeError: w").__dict__,
            model_sweep.SweepRow(
                "e", "timm", status="refused", stage="planning", kind="UserError", error="v"
            ).__dict__,
        ]
    )
    kinds = model_sweep.kinds_table(rows).set_index(["stage", "kind"])
    assert kinds.loc[("forward", "RuntimeError"), "count"] == 2
    assert kinds.loc[("forward", "RuntimeError"), "examples"] == "a, b"
    assert kinds.loc[("flops", "AssertionError"), "count"] == 1
    assert kinds.loc[("export", "TypeError"), "examples"] == "d"
    assert kinds.loc[("planning", "UserError"), "first_error"] == "v"
    totals = model_sweep.totals(rows)
    assert (totals["tried"], totals["ran"], totals["failed"]) == (5, 2, 2)
    assert (totals["refused at planning"], totals["flops not counted"]) == (1, 1)
