"""A results folder written before every test set had its own folder: moved to today's paths.

CIFAR-10's run files once lay directly under results/<kind>/<model>/ (the shifted sets' under
results/<kind>/<test set>/<model>/). Today every set's runs lie one folder per test set deep
(core.paths), CIFAR-10's under results/<kind>/cifar10/. Such files are moved there, their
modification times kept, so finished runs are not recomputed; the user is told once what moved.
A file whose new place is already taken is left where it was, and named: nothing reads it.
"""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from cifar_zeroshot.core.choices import REFERENCE_TEST_SET

# (folder under results/, what a CIFAR-10 run file there is called relative to its model folder)
_PER_RUN_FILES = (
    ("logits", "*.parquet"),
    ("embeddings", "*.parquet"),
    ("timing", "*.parquet"),
    ("features", "*/test.parquet"),
    ("probe", "*.parquet"),
)


def current_path(relative: Path, test_sets: set[str]) -> Path:
    """Where a file at ``relative`` (to results/) lies today: a CIFAR-10 run file of the layout
    without a set folder moves under <kind>/cifar10/; every other path stays as it is."""
    kind, *rest = relative.parts
    if len(rest) < 2 or rest[0] in test_sets:
        return relative
    in_run = Path(*rest[1:])  # below the model folder
    for per_run_kind, pattern in _PER_RUN_FILES:
        fits = len(in_run.parts) == len(Path(pattern).parts) and in_run.match(pattern)
        if kind == per_run_kind and fits:
            return Path(kind, REFERENCE_TEST_SET, *rest)
    return relative


def _previous_files(results: Path, test_sets: set[str]) -> Iterator[tuple[Path, Path]]:
    """(old path, new path) of every CIFAR-10 run file in the layout without a set folder."""
    for kind, pattern in _PER_RUN_FILES:
        folder = results / kind
        if not folder.is_dir():
            continue
        for model_folder in sorted(folder.iterdir()):
            if not model_folder.is_dir() or model_folder.name in test_sets:
                continue
            for old in sorted(model_folder.glob(pattern)):
                yield old, results / current_path(old.relative_to(results), test_sets)


def move_previous_layout(results: str | Path, test_sets: set[str], dry_run: bool) -> list[str]:
    """Move CIFAR-10's run files of the previous layout to their paths today; one message per
    kind of outcome (none when there was nothing to move). ``dry_run`` moves nothing."""
    moved, kept = [], []
    for old, new in _previous_files(Path(results), test_sets):
        if new.exists():
            kept.append(old)
            continue
        moved.append(old)
        if not dry_run:
            new.parent.mkdir(parents=True, exist_ok=True)
            os.replace(old, new)  # a rename: the file's time is kept, so it is not stale
    messages = []
    if moved:
        verb = "would be moved" if dry_run else "were moved"
        messages.append(
            f"{len(moved)} CIFAR-10 run file(s) of the previous results layout {verb} to "
            f"results/<kind>/{REFERENCE_TEST_SET}/<model>/... (e.g. {moved[0]}), where every "
            "test set's runs now lie; they are reused, not recomputed."
        )
    if kept:
        messages.append(
            f"{len(kept)} CIFAR-10 run file(s) of the previous results layout (e.g. {kept[0]}) "
            f"already have a file at their new path under results/<kind>/{REFERENCE_TEST_SET}/, "
            "which is the one used; nothing reads the old ones. Fix: delete them."
        )
    return messages


def remove_outputs_not_asked_for(
    summaries: Iterable[str | Path], asked: Iterable[str | Path], dry_run: bool
) -> list[str]:
    """Remove every summary file (a table or figure over all runs) that this configuration does
    not ask for: left from a configuration with another test set, model or method, it would sit
    beside the current files as if it were one of them. One message, none when there were none;
    ``dry_run`` removes nothing."""
    wanted = {Path(path) for path in asked}
    stale = sorted({Path(path) for path in summaries} - wanted)
    stale = [path for path in stale if path.is_file()]
    if not dry_run:
        for path in stale:
            path.unlink()
    if not stale:
        return []
    verb = "would be removed" if dry_run else "were removed"
    return [
        f"{len(stale)} result file(s) of test sets, models or methods this configuration no "
        f"longer asks for {verb}, so that none is taken for a current result: "
        f"{', '.join(map(str, stale))}."
    ]
