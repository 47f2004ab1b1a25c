"""The robustness table (analysis/robustness.py) as summary.md's section and as
results/robustness.csv."""

from pathlib import Path

import pandas as pd

from cifar_zeroshot.core.csv_output import write_csv


def _percent(value: float) -> str:
    return "-" if pd.isna(value) else f"{100 * value:.1f}"


def _interval(low: float, high: float) -> str:
    return f"[{_percent(low)}, {_percent(high)}]"


def robustness_section_lines(table: pd.DataFrame, note: str | None = None) -> list[str]:
    """The robustness section of summary.md, in lines (none without shifted sets)."""
    if table.empty:
        return []
    lines = ["## Robustness to distribution shift", ""]
    if note:
        lines += [f"**{note}**", ""]
    lines += [
        "Top-1 in percent with 95% intervals; drop = CIFAR-10 minus the shifted set, in points. "
        "CIFAR-10-C: the mean over the selected corruptions and severities. Effective "
        "robustness: points above the probit-space fit across models (results/robustness.csv; "
        "docs/robustness.md).",
        "",
        "| model | variant | method | test set | CIFAR-10 | shifted | drop | eff. robustness |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples(index=False):
        effective = (
            f"{row.effective_robustness:+.1f}"
            if not pd.isna(row.effective_robustness)
            else f"no fit: {row.no_fit_reason}"
        )
        lines.append(
            f"| {row.model} | {row.variant} | {row.method} | {row.test_set} | "
            f"{_percent(row.cifar10_top1)} {_interval(row.cifar10_ci_low, row.cifar10_ci_high)} | "
            f"{_percent(row.shifted_top1)} {_interval(row.shifted_ci_low, row.shifted_ci_high)} | "
            f"{_percent(row.drop)} {_interval(row.drop_ci_low, row.drop_ci_high)} | {effective} |"
        )
    return lines


def write_robustness_csv(table: pd.DataFrame, path: str | Path) -> None:
    write_csv(table, path)
