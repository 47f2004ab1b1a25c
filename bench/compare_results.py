"""Compare two finished results folders, data file by data file and column by column.

    python bench/compare_results.py BEFORE/results AFTER/results

What a run computes (logits, embeddings, features, probe scores, kept fits, every CSV number) must
be identical between two runs of the same configuration on one machine; what a run measures
(seconds, images per second, memory, energy, start-up) never is, so those columns are left out
and named. A file of BEFORE's layout without a test-set folder (results/<kind>/<model>/...) is
matched to AFTER's results/<kind>/cifar10/<model>/... . Prints one line per difference and a
count; exits 1 when anything differs.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cifar_zeroshot.config.results_layout import current_path

# Columns that hold measurements of this run (time, memory, energy), not results.
MEASURED = (
    "seconds",
    "per_second",
    "_mb",
    "_mib",
    "rss",
    "allocated",
    "joule",
    "energy",
    "startup",
    "latency",
    "_ms",
    "ms_per",
    "device_name",
    # A digest of a file's rows, measured times (the few-shot fit_seconds) among them.
    "rows_sha256",
)
# Run-fact fields that hold measurements or timestamps, besides MEASURED's.
MEASURED_FACTS = ("created", "hostname", "time", "peak", "started")


def _measured(column: str) -> bool:
    return any(part in column for part in MEASURED)


def _facts(metadata: dict[bytes, bytes] | None) -> dict[str, object]:
    """Parquet key-value metadata as JSON where it is JSON, measured fields dropped."""
    out: dict[str, object] = {}
    for key, value in (metadata or {}).items():
        name = key.decode()
        if name.startswith("ARROW") or name == "pandas":
            continue
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value.decode(errors="replace")
        out[name] = _without_measured(parsed)
    return out


def _without_measured(value: object) -> object:
    """JSON facts with every measured field (at any depth) dropped."""
    if isinstance(value, dict):
        return {
            k: _without_measured(v)
            for k, v in value.items()
            if not _measured(k) and not any(m in k for m in MEASURED_FACTS)
        }
    if isinstance(value, list):
        return [_without_measured(v) for v in value]
    return value


def compare_parquet(before: Path, after: Path) -> list[str]:
    a, b = pq.read_table(before), pq.read_table(after)
    problems = []
    if a.schema.names != b.schema.names:
        return [f"columns {a.schema.names} != {b.schema.names}"]
    for name in a.schema.names:
        if _measured(name):
            continue
        left, right = a.column(name).to_pylist(), b.column(name).to_pylist()
        if left != right:
            problems.append(f"column {name} differs")
    if _facts(a.schema.metadata) != _facts(b.schema.metadata):
        problems.append("metadata (run facts) differ")
    return problems


def compare_csv(before: Path, after: Path) -> list[str]:
    a, b = pd.read_csv(before, dtype=str), pd.read_csv(after, dtype=str)
    problems = []
    # Columns only AFTER has (a new scope column) are named, not counted as a difference,
    # when AFTER's rows of BEFORE's scope equal BEFORE's.
    added = [c for c in b.columns if c not in a.columns]
    missing = [c for c in a.columns if c not in b.columns]
    if missing:
        return [f"columns {missing} are gone"]
    if added:
        problems_note = f"(AFTER adds columns {added}; compared on BEFORE's columns"
        if "test_set" in added:
            b = b[b["test_set"].isin(["cifar10"]) | b["test_set"].isna()]
            problems_note += ", AFTER's CIFAR-10 rows"
        print(f"  note: {after.name} {problems_note})")
    b = b[list(a.columns)].reset_index(drop=True)
    if len(a) != len(b):
        return [f"{len(a)} rows != {len(b)} rows"]
    for column in a.columns:
        if _measured(column):
            continue
        left, right = a[column].fillna(""), b[column].fillna("")
        # Numbers by value ("1.0" and "1" are one severity), text as text.
        numbers = pd.to_numeric(left, errors="coerce"), pd.to_numeric(right, errors="coerce")
        both = numbers[0].notna() & numbers[1].notna()
        same = (left == right) | (both & (numbers[0] == numbers[1]))
        if not same.all():
            rows = np.flatnonzero(~same)
            problems.append(f"column {column} differs in {len(rows)} row(s), e.g. row {rows[0]}")
    return problems


def compare_npz(before: Path, after: Path) -> list[str]:
    a, b = np.load(before, allow_pickle=False), np.load(after, allow_pickle=False)
    if sorted(a.files) != sorted(b.files):
        return [f"arrays {sorted(a.files)} != {sorted(b.files)}"]
    problems = []
    for name in a.files:
        if a[name].dtype.kind == "U":  # JSON facts: measured fields dropped
            left, right = (
                _facts({b"x": a[name].item().encode()}),
                _facts({b"x": b[name].item().encode()}),
            )
            if left != right:
                problems.append(f"array {name} differs")
        elif not np.array_equal(a[name], b[name]):
            problems.append(f"array {name} differs")
    return problems


COMPARERS = {".parquet": compare_parquet, ".csv": compare_csv, ".npz": compare_npz}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--test-sets", default="cifar10,cifar10.1,cifar10-c")
    args = parser.parse_args()
    test_sets = set(args.test_sets.split(","))
    compared = differing = 0
    for path in sorted(args.before.rglob("*")):
        compare = COMPARERS.get(path.suffix)
        if compare is None or not path.is_file():
            continue
        relative = path.relative_to(args.before)
        other = args.after / current_path(relative, test_sets)
        if not other.is_file():
            print(f"{relative}: missing in AFTER ({other})")
            differing += 1
            continue
        problems = compare(path, other)
        compared += 1
        if [p for p in problems if p]:
            differing += 1
            for problem in problems:
                print(f"{relative}: {problem}")
    print(f"{compared} files compared, {differing} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
