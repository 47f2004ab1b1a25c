"""Statistics of two classifiers scored on the same images: exact McNemar, Newcombe's interval,
Holm's correction. Pure arithmetic on counts, checked against SciPy and published examples.

The 2x2 table of a pair (A, B): both right (a), only A right (b), only B right (c), both wrong (d).

- McNemar's exact test: under "A and B are equally often right", each discordant image is A's
  with probability 1/2, so p = min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2): a two-sided
  binomial test on the discordant pairs (scipy.stats.binomtest gives the same), p = 1 when
  b + c = 0. Computed with exact integers.
- The 95 % interval for the difference of paired proportions (b - c) / n: Newcombe's hybrid
  score ("square-and-add") interval, method 10 of R. G. Newcombe, "Improved confidence intervals
  for the difference between binomial proportions based on paired data", Statistics in
  Medicine 17 (1998) 2635-2650: the Wilson intervals of both accuracies combined with the
  correlation phi of the table, phi corrected towards 0 by n/2 where ad - bc > 0, as Newcombe
  and Fagerland, Lydersen & Laake (BMC Med Res Methodol 13:91, 2013) give it.
- Holm's step-down correction across all pairs of one evaluation (Holm 1979).

Each has a form on arrays (one element per pair) for the paired tests' table: the same floats as
the scalar form, except McNemar's p-values, which come from SciPy's binomial CDF (within about
1e-13 relative) and from the exact integers wherever that error could change their order.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.special import gammaln
from scipy.stats import binom

from cifar_zeroshot.methods.scoring import CONFIDENCE, wilson_interval

SIGNIFICANCE = 0.05
# As methods.scoring.wilson_interval's quantile, computed the same way (the same float).
_Z = statistics.NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)


@dataclass(frozen=True)
class PairedTable:
    both_right: int  # a
    only_a_right: int  # b
    only_b_right: int  # c
    both_wrong: int  # d

    @property
    def images(self) -> int:
        return self.both_right + self.only_a_right + self.only_b_right + self.both_wrong

    @property
    def difference(self) -> float:
        """Top-1 of A minus top-1 of B."""
        return (self.only_a_right - self.only_b_right) / self.images


def mcnemar_exact(only_a_right: int, only_b_right: int) -> float:
    """Two-sided exact McNemar p-value (binomial test of the discordant pairs at 1/2)."""
    discordant = only_a_right + only_b_right
    if discordant == 0:
        return 1.0
    smaller = min(only_a_right, only_b_right)
    term, tail = 1, 0  # comb(discordant, i), updated in exact integers
    for i in range(smaller + 1):
        tail += term
        term = term * (discordant - i) // (i + 1)
    return float(min(Fraction(1), Fraction(2 * tail, 2**discordant)))


def newcombe_interval(table: PairedTable) -> tuple[float, float]:
    """95 % hybrid score interval for table.difference (Newcombe 1998, method 10)."""
    a, b, c, d = table.both_right, table.only_a_right, table.only_b_right, table.both_wrong
    n = table.images
    right_a, right_b = a + b, a + c
    p1, p2 = right_a / n, right_b / n
    low1, high1 = wilson_interval(right_a, n)
    low2, high2 = wilson_interval(right_b, n)
    margins = right_a * (n - right_a) * right_b * (n - right_b)
    phi = 0.0
    if margins > 0:
        cross = a * d - b * c
        # Corrected towards 0 by n/2 when positive (Newcombe's method 10).
        corrected = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
        phi = corrected / math.sqrt(margins)
    delta = p1 - p2
    # Squares as products, correctly rounded (C's pow, behind **, is not always): the same
    # floats as newcombe_intervals' on arrays.
    below_a, above_b = p1 - low1, high2 - p2
    above_a, below_b = high1 - p1, p2 - low2
    lower = delta - math.sqrt(
        max(below_a * below_a - 2 * phi * below_a * above_b + above_b * above_b, 0.0)
    )
    upper = delta + math.sqrt(
        max(above_a * above_a - 2 * phi * above_a * below_b + below_b * below_b, 0.0)
    )
    return max(lower, -1.0), min(upper, 1.0)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the order given (compare each with the significance level)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# The same statistics on arrays of tables (one element per pair), for the paired tests' table:
# each gives what its scalar form above gives, element by element (tests/analysis hold them
# against it and against SciPy).


# SciPy's binomial CDF is good to a few units in the last place; where two tables' p-values lie
# closer than this (relative), the exact integers settle them, so the p-values' order (which
# Holm's correction reads) is the exact one.
_NEAR = 1e-11
_SMALLEST_NORMAL = float(np.finfo(float).tiny)
# ln of half the smallest subnormal float: an exact p-value below it is the float 0.0.
_LOG_ROUNDS_TO_ZERO = -1075 * math.log(2)


def _log_tail_bound(smaller: np.ndarray, discordant: np.ndarray) -> np.ndarray:
    """ln of an upper bound of the exact p-value 2 P(X <= k), k = min(b, c) < n / 2: the terms
    C(n, i) / 2^n shrink towards i = 0 by at least k / (n - k + 1) each, so the tail is at most
    C(n, k) / 2^n (n - k + 1) / (n - 2k + 1)."""
    n, k = discordant.astype(float), smaller.astype(float)
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    ratio = np.log(n - k + 1) - np.log(np.maximum(n - 2 * k + 1, 1.0))
    return math.log(2) + log_choose + ratio - n * math.log(2)


def mcnemar_exact_many(only_a_right: np.ndarray, only_b_right: np.ndarray) -> np.ndarray:
    """mcnemar_exact per element: min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2), from
    SciPy's binomial CDF (within about 1e-13 of the exact value), and from mcnemar_exact's
    integers for the tables whose order that error could change and for those below the
    smallest normal float (where SciPy's tail loses digits) that do not round to 0."""
    b = np.asarray(only_a_right, dtype=np.int64)
    c = np.asarray(only_b_right, dtype=np.int64)
    discordant, smaller = b + c, np.minimum(b, c)
    p = np.minimum(1.0, 2.0 * binom.cdf(smaller, discordant, 0.5))
    # b == c: the tail holds at least half the mass, so p is 1 exactly (as the integers say).
    p = np.where((discordant == 0) | (b == c), 1.0, p)
    # Each distinct table (min(b, c), b + c) once, in the order of its p-value.
    keys = smaller * (int(discordant.max(initial=0)) + 1) + discordant
    _, first, where = np.unique(keys, return_index=True, return_inverse=True)
    tables = np.stack([smaller[first], discordant[first]])
    distinct = p[first]
    order = np.argsort(distinct, kind="stable")
    ranked = distinct[order]
    near = np.abs(np.diff(ranked)) <= _NEAR * ranked[1:]
    unsure = np.zeros(len(distinct), dtype=bool)
    unsure[order[1:][near]] = unsure[order[:-1][near]] = True
    tiny = distinct < _SMALLEST_NORMAL
    zero = tiny & (_log_tail_bound(tables[0], tables[1]) < _LOG_ROUNDS_TO_ZERO)
    distinct[zero] = 0.0
    unsure = (unsure | tiny) & ~zero & (distinct < 1.0)
    for number in np.flatnonzero(unsure):
        k, n = (int(x) for x in tables[:, number])
        distinct[number] = mcnemar_exact(k, n - k)
    return distinct[where.reshape(-1)]


def wilson_intervals(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """methods.scoring.wilson_interval per element (trials > 0), its operations in its order so
    the bounds are the same floats."""
    k = np.asarray(successes, dtype=np.int64)
    n = np.asarray(trials, dtype=np.int64)
    p = k / n
    denominator = 2 * (n + _Z**2)
    centre = (2 * n * p + _Z**2) / denominator
    half = _Z / denominator * np.sqrt(4 * n * p * (1 - p) + _Z**2)
    low = np.where(k == 0, 0.0, centre - half)
    high = np.where(k == n, 1.0, centre + half)
    return low, high


def newcombe_intervals(
    both_right: np.ndarray,
    only_a_right: np.ndarray,
    only_b_right: np.ndarray,
    both_wrong: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """newcombe_interval per element, its operations in its order (the same floats)."""
    a, b, c, d = (
        np.asarray(x, dtype=np.int64) for x in (both_right, only_a_right, only_b_right, both_wrong)
    )
    n = a + b + c + d
    right_a, right_b = a + b, a + c
    p1, p2 = right_a / n, right_b / n
    low1, high1 = wilson_intervals(right_a, n)
    low2, high2 = wilson_intervals(right_b, n)
    # The exact integer product as a float, as math.sqrt sees it, while int64 holds it (up to
    # about 100,000 images); beyond, the float product (the same to within a rounding).
    first, second = right_a * (n - right_a), right_b * (n - right_b)
    fits = n.size == 0 or int(first.max()) * int(second.max()) < 2**63
    margins = (first * second).astype(float) if fits else first.astype(float) * second
    cross = (a * d - b * c).astype(float)
    half_n = n / 2
    corrected = np.where(cross > half_n, cross - half_n, np.where(cross >= 0, 0.0, cross))
    positive = margins > 0
    phi = np.where(positive, corrected / np.sqrt(np.where(positive, margins, 1.0)), 0.0)
    delta = p1 - p2
    below_a, above_b = p1 - low1, high2 - p2
    above_a, below_b = high1 - p1, p2 - low2
    lower = delta - np.sqrt(
        np.maximum(below_a * below_a - 2 * phi * below_a * above_b + above_b * above_b, 0.0)
    )
    upper = delta + np.sqrt(
        np.maximum(above_a * above_a - 2 * phi * above_a * below_b + below_b * below_b, 0.0)
    )
    return np.maximum(lower, -1.0), np.minimum(upper, 1.0)


def holm_many(p_values: np.ndarray) -> np.ndarray:
    """holm on an array: a stable sort, then the running maximum of min(1, (m - rank) p)."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled) if m else scaled
    return adjusted
