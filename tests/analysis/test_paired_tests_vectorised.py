"""The paired tests' table built on arrays is the table the per-pair statistics give, column by
column, and its McNemar p-values are SciPy's binomial test."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from cifar_zeroshot.analysis.paired_statistics import (
    PairedTable,
    holm,
    holm_many,
    mcnemar_exact,
    mcnemar_exact_many,
    newcombe_interval,
    newcombe_intervals,
)
from cifar_zeroshot.analysis.paired_tests import (
    IMAGE_COLUMNS,
    PAIRED_COLUMNS,
    PairedResult,
    paired_tests_of,
    read_paired_tests_csv,
)
from cifar_zeroshot.core.csv_output import write_csv

SIDES = ("model", "variant", "method")


def reference_table(groups: list[list[PairedResult]], significance: float) -> pd.DataFrame:
    """The table pair by pair with the scalar statistics: row dicts, then Holm over all rows."""
    rows = []
    for group in groups:
        for first, second in itertools.combinations(group, 2):
            right_a, right_b = first.right, second.right
            table = PairedTable(
                int((right_a & right_b).sum()),
                int((right_a & ~right_b).sum()),
                int((~right_a & right_b).sum()),
                int((~right_a & ~right_b).sum()),
            )
            low, high = newcombe_interval(table)
            row = {f"{c}_a": v for c, v in zip(SIDES, first.key, strict=True)}
            row |= {f"{c}_b": v for c, v in zip(SIDES, second.key, strict=True)}
            row |= dict(zip(IMAGE_COLUMNS, first.images, strict=True))
            rows.append(
                row
                | {
                    "both_right": table.both_right,
                    "only_a_right": table.only_a_right,
                    "only_b_right": table.only_b_right,
                    "both_wrong": table.both_wrong,
                    "top1_a": float(right_a.mean()),
                    "top1_b": float(right_b.mean()),
                    "difference": table.difference,
                    "difference_ci_low": low,
                    "difference_ci_high": high,
                    "mcnemar_p": mcnemar_exact(table.only_a_right, table.only_b_right),
                }
            )
    adjusted = holm([row["mcnemar_p"] for row in rows])
    for row, p in zip(rows, adjusted, strict=True):
        row |= {"holm_p": p, "significant": bool(p < significance)}
        row["significance_level"] = significance
    return pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))


def random_groups(seed: int) -> list[list[PairedResult]]:
    """Groups of results on the same images: accuracies spread from near 0 to 1, results that
    copy another's answers with a few flips (small discordant counts), CIFAR-10-C-like blocks
    and a group of one (no pairs)."""
    rng = np.random.default_rng(seed)
    groups = []
    scopes = [
        ("synthetic", "cifar10", "", "", 300),
        ("synthetic", "cifar10-c", "fog", 5, 120),
        ("synthetic", "cifar10-c", "fog", 1, 120),
        ("synthetic", "cifar10.1", "", None, 7),
        ("synthetic", "cifar10", "", "", 1),
    ]
    for number, images in enumerate(scopes):
        count = images[-1]
        index, labels = np.arange(count), rng.integers(0, 10, count)
        rights = []
        size = 1 if number == len(scopes) - 1 else int(rng.integers(4, 12))
        for _ in range(size):
            if rights and rng.random() < 0.4:  # a near copy of an earlier result
                right = rights[int(rng.integers(len(rights)))].copy()
                flips = rng.integers(0, count, int(rng.integers(0, 4)))
                right[flips] = ~right[flips]
            else:
                right = rng.random(count) < rng.choice([0.0, 0.1, 0.5, 0.9, 1.0, rng.random()])
            rights.append(right)
        groups.append(
            [
                PairedResult((f"m{n}", "fp32", f"method{n % 2}"), images, index, labels, right)
                for n, right in enumerate(rights)
            ]
        )
    return groups


@pytest.mark.parametrize("seed", range(6))
def test_the_table_on_arrays_is_the_per_pair_table(seed, tmp_path):
    groups = random_groups(seed)
    results = [result for group in groups for result in group]
    vectorised = paired_tests_of(results, 0.05).table
    expected = reference_table(groups, 0.05)
    assert len(vectorised) == len(expected) > 0
    names = [f"{side}_{end}" for side in SIDES for end in ("a", "b")]
    # The names are categoricals (a code per pair); their values are the per-pair table's.
    assert all(isinstance(vectorised[c].dtype, pd.CategoricalDtype) for c in names)
    as_text = vectorised.astype({c: expected[c].dtype for c in names})
    exact = [c for c in PAIRED_COLUMNS if c not in ("mcnemar_p", "holm_p")]
    # Counts, accuracies, intervals, flags, names and image columns: the same values and types.
    pd.testing.assert_frame_equal(as_text[exact], expected[exact], check_exact=True)
    # p-values: SciPy's binomial CDF against exact integers, equal to the last digits.
    for column in ("mcnemar_p", "holm_p"):
        np.testing.assert_allclose(vectorised[column], expected[column], rtol=1e-12, atol=0)
    assert vectorised["significant"].tolist() == expected["significant"].tolist()
    # The file: byte for byte what the per-pair table writes.
    write_csv(vectorised, tmp_path / "vectorised.csv")
    write_csv(expected, tmp_path / "expected.csv")
    assert (tmp_path / "vectorised.csv").read_bytes() == (tmp_path / "expected.csv").read_bytes()
    # Read back: every column, the names as categoricals holding the names written.
    read_back = read_paired_tests_csv(tmp_path / "vectorised.csv")
    assert list(read_back.columns) == list(PAIRED_COLUMNS)
    for column in names:
        assert isinstance(read_back[column].dtype, pd.CategoricalDtype)
        assert read_back[column].astype(str).tolist() == expected[column].tolist()


def test_an_empty_table_has_the_per_pair_tables_columns():
    index, labels = np.arange(3), np.zeros(3, dtype=int)
    lone = PairedResult(("a", "fp32", "m"), ("d", "cifar10", "", "", 3), index, labels, labels == 0)
    table = paired_tests_of([lone]).table
    pd.testing.assert_frame_equal(table, reference_table([[lone]], 0.05))


def test_mcnemar_on_arrays_is_scipys_binomial_test_and_the_exact_integers():
    b = np.array([0, 0, 1, 6, 16, 5, 0, 240, 1, 3, 40, 700, 9000])
    c = np.array([0, 1, 0, 16, 6, 5, 30, 301, 2000, 0, 41, 650, 8700])
    p = mcnemar_exact_many(b, c)
    for value, (x, y) in zip(p, zip(b, c, strict=True), strict=True):
        expected = 1.0 if x + y == 0 else binomtest(int(x), int(x + y), 0.5).pvalue
        assert value == pytest.approx(expected, rel=1e-10, abs=1e-300)
        assert value == pytest.approx(mcnemar_exact(int(x), int(y)), rel=1e-12, abs=1e-300)
    assert p[0] == p[5] == 1.0  # no discordant image; as many each way


def test_mcnemar_on_arrays_is_exact_where_the_floats_run_out():
    # 2 / 2**n for n from 1015 (a normal float) through the subnormals to 0.0, and tails of
    # thousands of images: what the exact integers give, to the last bit.
    n = np.concatenate([np.arange(1015, 1080), [5000, 9000]])
    b = np.zeros_like(n)
    b[-2:] = [3, 40]
    p = mcnemar_exact_many(b, n - b)
    expected = [mcnemar_exact(int(x), int(y - x)) for x, y in zip(b, n, strict=True)]
    assert p.tolist() == expected
    assert p[-1] == 0.0 and 0.0 < p[p > 0].min() < np.finfo(float).tiny  # subnormals met


def test_newcombe_and_holm_on_arrays_are_the_scalar_forms_exactly():
    tables = [t for t in itertools.product([0, 1, 3, 11, 250], repeat=4) if sum(t) > 0]
    a, b, c, d = (np.array(column) for column in zip(*tables, strict=True))
    low, high = newcombe_intervals(a, b, c, d)
    for n, table in enumerate(tables):
        assert (low[n], high[n]) == newcombe_interval(PairedTable(*table))
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.random(50), rng.random(50) * 1e-6, [0.5, 0.5, 1.0, 0.0]])
    assert holm_many(p).tolist() == holm(p.tolist())
    assert holm_many(np.array([])).tolist() == []
