"""McNemar's exact test, Newcombe's paired interval and Holm's correction on known answers."""

import itertools

import pytest
from scipy.stats import binomtest

from cifar_zeroshot.analysis.paired_statistics import (
    PairedTable,
    holm,
    mcnemar_exact,
    newcombe_interval,
)


@pytest.mark.parametrize(
    ("b", "c"), [(0, 0), (0, 1), (6, 16), (16, 6), (5, 5), (0, 30), (240, 301), (1, 2000)]
)
def test_mcnemar_is_scipys_two_sided_binomial_test_on_the_discordant_pairs(b, c):
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_mcnemar_by_hand():
    # Discordant 0 against 3: both tails 1/8 each.
    assert mcnemar_exact(0, 3) == 0.25
    assert mcnemar_exact(3, 0) == 0.25
    assert mcnemar_exact(4, 4) == 1.0


def test_newcombe_interval_on_published_examples():
    # Cavo et al. 2012, as Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency
    # Tables" (2017), chapter 8, give it: 59 both, 6 and 16 discordant, 80 neither:
    # difference -0.0621, Newcombe square-and-add interval -0.1186 to -0.0046.
    table = PairedTable(59, 6, 16, 80)
    assert table.difference == pytest.approx(-0.0621, abs=5e-5)
    low, high = newcombe_interval(table)
    assert (round(low, 4), round(high, 4)) == (-0.1186, -0.0046)


def test_newcombe_interval_edge_tables():
    # Two identical classifiers: difference 0, and an interval around it inside [-1, 1].
    low, high = newcombe_interval(PairedTable(40, 0, 0, 60))
    assert -1 <= low < 0 < high <= 1
    # Always A, never B: the interval stays inside [-1, 1] and excludes 0.
    low, high = newcombe_interval(PairedTable(0, 30, 0, 0))
    assert 0 < low < high == 1.0
    # Swapping A and B mirrors the interval.
    for a, b, c, d in itertools.product([0, 3, 11], repeat=4):
        if a + b + c + d == 0:
            continue
        low, high = newcombe_interval(PairedTable(a, b, c, d))
        mirror_low, mirror_high = newcombe_interval(PairedTable(a, c, b, d))
        assert (low, high) == pytest.approx((-mirror_high, -mirror_low), abs=1e-12)
        assert low <= PairedTable(a, b, c, d).difference <= high


def test_holm_by_hand():
    # Sorted: 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, then 0.04 x 1 = 0.04 raised to 0.06 (monotone).
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []
