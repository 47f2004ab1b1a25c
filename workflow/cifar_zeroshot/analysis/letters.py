"""Compact letter display: letters for results ranked together, such that two results share a
letter exactly where their difference is not significant.

The insert-absorb algorithm of H.-P. Piepho, "An algorithm for a letter-based representation
of all-pairwise comparisons", Journal of Computational and Graphical Statistics 13 (2004)
456-466 (doi:10.1198/1061860043515): start from one letter every result has; for each
significant pair, every letter both have is split in two, one without each of them (insert);
then any letter whose results all carry another letter too is dropped (absorb). The letters are
then ordered by their best result, so the best result gets "a".

A letter is a set of results held as an int's bits (bit i: the i-th result in rank order), so a
split, a subset test and a union are single integer operations.
"""

import string

import numpy as np

_FIRST_NAMES = string.ascii_lowercase + string.ascii_uppercase


def letter_names(count: int) -> list[str]:
    """a-z, A-Z, then a1 ... Z1, a2, ...: each a letter with optional digits after it, so a
    result's letters written one after the other still read one way."""
    names = []
    for number in range(count):
        cycle, position = divmod(number, len(_FIRST_NAMES))
        names.append(_FIRST_NAMES[position] + (str(cycle) if cycle else ""))
    return names


def _absorb(columns: list[int], new: list[int]) -> list[int]:
    """``columns`` (each in no other) with ``new`` added, every set within another dropped."""
    kept = list(columns)
    for column in sorted(set(new), key=lambda bits: -bits.bit_count()):
        # Only a new letter can lie within another: each is a part of a letter that lay within
        # no other. The largest go first, so an equal or smaller one meets them.
        if not any(column | other == other for other in kept):
            kept.append(column)
    return kept


def letter_sets(significant: np.ndarray) -> list[int]:
    """The letters of Piepho's insert-absorb algorithm as bit sets, for a symmetric boolean
    [n, n] matrix of which pairs differ significantly (its diagonal is not read)."""
    matrix = np.asarray(significant, dtype=bool)
    count = len(matrix)
    if matrix.shape != (count, count):
        raise ValueError(f"the significance matrix must be square, not {matrix.shape}")
    if not np.array_equal(matrix, matrix.T):
        raise ValueError("the significance matrix must be symmetric")
    columns = [(1 << count) - 1] if count else []
    for first, second in zip(*np.nonzero(np.triu(matrix, k=1)), strict=True):
        pair = (1 << int(first)) | (1 << int(second))
        split = [column for column in columns if column & pair == pair]
        if not split:
            continue
        others = [column for column in columns if column & pair != pair]
        # Insert: each letter both have becomes one without the first and one without the
        # second; absorb: a letter within another is dropped.
        new = [column & ~(1 << int(first)) for column in split]
        new += [column & ~(1 << int(second)) for column in split]
        columns = _absorb(others, new)
    return columns


def compact_letters(significant: np.ndarray) -> list[str]:
    """Each result's letters (results in rank order, best first; the letters ordered by their
    best result, so the first result's include "a")."""
    count = len(significant)
    columns = letter_sets(significant)
    members = [[i for i in range(count) if column >> i & 1] for column in columns]
    ordered = sorted(range(len(columns)), key=lambda n: members[n])
    names = letter_names(len(columns))
    letters = [""] * count
    for name, number in zip(names, ordered, strict=True):
        for i in members[number]:
            letters[i] += name
    return letters
