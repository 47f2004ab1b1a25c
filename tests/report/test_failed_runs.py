"""The metrics job's list of failed runs: CSV, --forcerun file list, summary section, figure."""

from pathlib import Path

import pandas as pd

from cifar_zeroshot.records.failed_run import FailedRun
from cifar_zeroshot.report.failed_runs import (
    failed_run_names,
    failed_runs_lines,
    write_failed_runs,
)
from cifar_zeroshot.report.plots import failed_run_figure

FAILED = [
    FailedRun("cifar10", "resnet18", "fp32", "RuntimeError: a | b", "logs/a.log", "results/a"),
    FailedRun("cifar10_1", "resnet18", "fp32", "ValueError: c", "logs/b.log", "results/b"),
]


def test_csv_and_file_list_name_every_failed_run(tmp_path: Path) -> None:
    write_failed_runs(FAILED, tmp_path / "f.csv", tmp_path / "f.txt")
    frame = pd.read_csv(tmp_path / "f.csv")
    assert list(frame["error"]) == ["RuntimeError: a | b", "ValueError: c"]
    assert list(frame["log"]) == ["logs/a.log", "logs/b.log"]
    assert (tmp_path / "f.txt").read_text() == "results/a\nresults/b\n"
    # CIFAR-10's alone: the per-run figures are CIFAR-10's.
    assert failed_run_names(tmp_path / "f.csv") == {("resnet18", "fp32"): "RuntimeError: a | b"}


def test_with_none_failed_the_files_are_empty_and_the_summary_says_nothing(tmp_path) -> None:
    write_failed_runs([], tmp_path / "f.csv", tmp_path / "f.txt")
    assert pd.read_csv(tmp_path / "f.csv").empty
    assert (tmp_path / "f.txt").read_text() == ""
    assert failed_runs_lines([]) == []


def test_the_summary_section_lists_each_with_its_log_and_the_rerun_command() -> None:
    text = "\n".join(failed_runs_lines(FAILED))
    assert "Failed runs (2)" in text
    assert "- resnet18 · fp32 on cifar10: RuntimeError: a \\| b (log: logs/a.log)" in text
    assert "--forcerun $(cat results/failed_runs.txt)" in text


def test_a_failed_run_has_a_figure_that_says_so() -> None:
    figure = failed_run_figure("resnet18", "fp32", "RuntimeError: boom")
    assert "the run failed" in figure.axes[0].get_title()
