"""The runs whose inference job failed, as the metrics job lists them: results/failed_runs.csv
(shown in the report under "Failed runs"), a "Failed runs" section of results/summary.md, and
results/failed_runs.txt, the files that `snakemake --forcerun $(cat results/failed_runs.txt)`
takes to rerun exactly those jobs."""

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.choices import REFERENCE_TEST_SET
from cifar_zeroshot.core.csv_output import write_csv
from cifar_zeroshot.records.failed_run import FailedRun

COLUMNS = ["test_set", "model", "variant", "error", "log", "file"]


def failed_runs_table(failed: Sequence[FailedRun]) -> pd.DataFrame:
    return pd.DataFrame([[getattr(f, c) for c in COLUMNS] for f in failed], columns=COLUMNS)


def failed_runs_lines(failed: Sequence[FailedRun]) -> list[str]:
    """The summary's section: every failed run with its error and log, and the rerun command."""
    if not failed:
        return []
    lines = [
        f"**Failed runs ({len(failed)}): not scored; the figures and tables above leave "
        "them out.**",
        "",
    ]
    for f in failed:
        error = f.error.replace("|", "\\|")
        lines.append(f"- {f.model} · {f.variant} on {f.test_set}: {error} (log: {f.log})")
    lines += [
        "",
        "After fixing the cause, rerun only these jobs: "
        "`snakemake --cores all --forcerun $(cat results/failed_runs.txt)` (with your usual "
        "--configfile/--config before --forcerun).",
    ]
    return lines


def write_failed_runs(
    failed: Sequence[FailedRun], csv_path: str | Path, txt_path: str | Path
) -> None:
    """The CSV (a header alone when every run finished) and the --forcerun file list."""
    write_csv(failed_runs_table(failed), csv_path)
    with atomic_path(txt_path) as temp:
        temp.write_text("".join(f"{f.file}\n" for f in failed), encoding="utf-8")


def failed_run_names(csv_path: str | Path) -> dict[tuple[str, str], str]:
    """(model, variant) -> the error of its failed CIFAR-10 run, from results/failed_runs.csv."""
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    return {
        (row.model, row.variant): row.error
        for row in frame.itertuples()
        if row.test_set == REFERENCE_TEST_SET
    }
