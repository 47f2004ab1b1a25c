"""cifar_zeroshot.config.results_layout: a results folder of the layout without a test-set
folder for CIFAR-10 is moved to today's paths, its files' times kept, and the user told once."""

import os
from pathlib import Path

from cifar_zeroshot.config.results_layout import (
    current_path,
    move_previous_layout,
    remove_outputs_not_asked_for,
)

SETS = {"cifar10", "cifar10.1", "cifar10-c"}
OLD = (
    "logits/alexnet/fp32.parquet",
    "timing/alexnet/fp32.parquet",
    "embeddings/clip-ViT-B-32.openai/fp32.parquet",
    "features/alexnet/fp32/test.parquet",
    "probe/alexnet/fp32.parquet",
)
# Files whose paths are today's: never moved.
KEPT = (
    "features/alexnet/fp32/train.parquet",
    "probe/alexnet/fp32.fit.npz",
    "logits/cifar10.1/alexnet/fp32.parquet",
)


def _write(results, names):
    for number, name in enumerate(names):
        path = results / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
        os.utime(path, (1_000_000 + number, 1_000_000 + number))


def test_cifar10_run_files_move_under_cifar10_with_their_times(tmp_path):
    results = tmp_path / "results"
    _write(results, OLD + KEPT)
    [message] = move_previous_layout(results, SETS, dry_run=False)
    assert message.startswith("5 CIFAR-10 run file(s) of the previous results layout were moved")
    for number, name in enumerate(OLD):
        kind, rest = name.split("/", 1)
        moved = results / kind / "cifar10" / rest
        assert moved.read_text() == name and not (results / name).exists()
        assert moved.stat().st_mtime == 1_000_000 + number  # not stale: nothing reruns
    assert all((results / name).exists() for name in KEPT)
    assert move_previous_layout(results, SETS, dry_run=False) == []  # told once


def test_a_dry_run_moves_nothing_and_a_taken_place_is_named(tmp_path):
    results = tmp_path / "results"
    _write(results, (*OLD[:1], "logits/cifar10/alexnet/fp32.parquet", *OLD[1:2]))
    dry = move_previous_layout(results, SETS, dry_run=True)
    assert "would be moved" in dry[0] and (results / OLD[1]).exists()
    moved, kept = move_previous_layout(results, SETS, dry_run=False)
    assert "1 CIFAR-10 run file(s)" in moved
    assert f"(e.g. {results / OLD[0]})" in kept and "Fix: delete them." in kept
    assert (results / OLD[0]).exists()  # left, named: nothing reads it


def test_summaries_the_configuration_no_longer_asks_for_are_removed_and_named(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results/plots").mkdir(parents=True)
    stale = ["results/robustness.csv", "results/plots/effective_robustness.png"]
    for name in [*stale, "results/metrics.csv"]:
        (tmp_path / name).write_text("x")
    summaries = [*stale, "results/metrics.csv", "results/plots/corruption_severity.png"]
    asked = ["results/metrics.csv"]
    (message,) = remove_outputs_not_asked_for(summaries, asked, dry_run=True)
    assert "would be removed" in message and all((tmp_path / name).exists() for name in stale)
    (message,) = remove_outputs_not_asked_for(summaries, asked, dry_run=False)
    assert message == (
        "2 result file(s) of test sets, models or methods this configuration no longer asks for "
        "were removed, so that none is taken for a current result: "
        "results/plots/effective_robustness.png, results/robustness.csv."
    )
    assert not any((tmp_path / name).exists() for name in stale)
    assert (tmp_path / "results/metrics.csv").exists()
    assert remove_outputs_not_asked_for(summaries, asked, dry_run=False) == []


def test_current_path_moves_only_cifar10_run_files_of_the_previous_layout():
    moved = {name: current_path(Path(name), SETS) for name in (*OLD, *KEPT, "metrics.csv")}
    for name in OLD:
        kind, rest = name.split("/", 1)
        assert moved[name] == Path(kind, "cifar10", rest)
    assert all(moved[name] == Path(name) for name in (*KEPT, "metrics.csv"))
