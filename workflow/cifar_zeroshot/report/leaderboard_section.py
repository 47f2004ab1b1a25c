"""The summary's leaderboard: the top of each ranking (analysis/leaderboard.py) with its letters,
how many results, pairs and significant pairs each ranking holds, and where the rest is."""

import pandas as pd

from cifar_zeroshot.analysis.leaderboard import ranking_pairs

# Rows of each ranking the summary shows; results/leaderboard.csv holds them all.
TOP_ROWS = 10
LEADERBOARD_FILE = "results/leaderboard.csv"


def _percent(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * float(value):.1f}"  # type: ignore[arg-type]


def _top1(row: pd.Series) -> str:
    return (
        f"{_percent(row['top1'])} [{_percent(row['top1_ci_low'])}, {_percent(row['top1_ci_high'])}]"
    )


def _speed(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):,.1f}"  # type: ignore[arg-type]


def _counts(ranking: pd.DataFrame, pairs: pd.DataFrame) -> str:
    """ "class_mapping: 8 results, 28 pairs, 5 significant" (no pairs where no letters)."""
    method = ranking["method"].iloc[0]
    results = f"{len(ranking)} result{'' if len(ranking) == 1 else 's'}"
    if (ranking["blocks"] > 0).any():
        return f"{method}: {results} (mean over {int(ranking['blocks'].max())} blocks)"
    significant = int(pairs["significant"].astype(bool).sum()) if len(pairs) else 0
    return f"{method}: {results}, {len(pairs)} pairs, {significant} significant"


def leaderboard_summary_lines(
    leaderboard: pd.DataFrame, paired: pd.DataFrame, top: int = TOP_ROWS
) -> list[str]:
    """The summary's section (Markdown): per test set, each method's first ``top`` results."""
    lines = ["## Leaderboard", ""]
    if leaderboard.empty:
        return [*lines, "No results to rank."]
    lines.append(
        f"Each test set's results ranked by top-1 per scoring method, the first {top} of each "
        f"ranking ({LEADERBOARD_FILE} holds all {len(leaderboard)} rows with speed, memory, "
        "size and published ImageNet top-1; the report's leaderboard page sorts them). Results "
        "of one ranking that share a letter do not differ significantly (McNemar's exact test, "
        "Holm-corrected; results/paired_tests.csv). CIFAR-10-C ranks the mean top-1 over its "
        "blocks without letters: its pairs are tested block by block."
    )
    for test_set, rows in leaderboard.groupby("test_set", sort=False):
        title = rows["test_set_title"].dropna()
        heading = f"{test_set} ({title.iloc[0]})" if len(title) else str(test_set)
        lines += [
            "",
            f"### {heading}",
            "",
            "| method | rank | model | variant | top-1 % [95 % CI] | letters | images/s |",
            "|---|---|---|---|---|---|---|",
        ]
        counts = []
        for method, ranking in rows.groupby("method", sort=False):
            pairs = ranking_pairs(paired, str(test_set), str(method))
            counts.append(_counts(ranking, pairs))
            for _, row in ranking.head(top).iterrows():
                cells = [
                    str(method),
                    str(row["rank"]),
                    str(row["model"]),
                    str(row["variant"]),
                    _top1(row),
                    str(row["letters"]) if str(row["letters"]) not in ("", "nan") else "-",
                    _speed(row["images_per_second"]),
                ]
                lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        more = len(rows) - sum(min(top, n) for n in rows.groupby("method", sort=False).size())
        lines += ["", "Per method: " + "; ".join(counts) + "."]
        if more:
            lines.append(f"The other {more} results of {test_set}: {LEADERBOARD_FILE}.")
    return lines
