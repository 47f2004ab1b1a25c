"""Compact letter display (Piepho's insert-absorb): known examples and the defining property on
random significance matrices."""

import itertools

import numpy as np
import pytest

from cifar_zeroshot.analysis.letters import compact_letters, letter_names, letter_sets


def matrix(count: int, pairs: list[tuple[int, int]]) -> np.ndarray:
    significant = np.zeros((count, count), dtype=bool)
    for first, second in pairs:
        significant[first, second] = significant[second, first] = True
    return significant


def split_letters(text: str) -> set[str]:
    """A result's letters: each a letter with the digits after it (letter_names)."""
    names: list[str] = []
    for character in text:
        if character.isdigit():
            names[-1] += character
        else:
            names.append(character)
    return set(names)


def test_nothing_significant_is_one_letter_for_all():
    assert compact_letters(matrix(4, [])) == ["a", "a", "a", "a"]


def test_everything_significant_is_a_letter_each_best_first():
    assert compact_letters(matrix(3, [(0, 1), (0, 2), (1, 2)])) == ["a", "b", "c"]


def test_overlapping_groups():
    # 0 and 2 differ, 1 differs from neither: the classic "a ab b".
    assert compact_letters(matrix(3, [(0, 2)])) == ["a", "ab", "b"]
    # A chain 0-1-2-3 where only neighbours are alike.
    far = [(0, 2), (0, 3), (1, 3)]
    assert compact_letters(matrix(4, far)) == ["a", "ab", "bc", "c"]


def test_piepho_style_example_needs_no_redundant_letter():
    # 0 differs from 3 and 4 only; 1 from 4 only: groups {0, 1, 2}, {1, 2, 3}, {2, 3, 4}.
    letters = compact_letters(matrix(5, [(0, 3), (0, 4), (1, 4)]))
    assert letters == ["a", "ab", "abc", "bc", "c"]


def test_the_best_result_gets_a_even_when_it_is_alone():
    letters = compact_letters(matrix(3, [(0, 1), (0, 2)]))
    assert letters == ["a", "b", "b"]


@pytest.mark.parametrize("seed", range(40))
def test_significant_pairs_share_no_letter_and_the_others_share_one(seed):
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 14))
    upper = np.triu(rng.random((count, count)) < rng.random(), k=1)
    significant = upper | upper.T
    letters = [split_letters(text) for text in compact_letters(significant)]
    assert all(letters)  # every result has a letter
    for first, second in itertools.combinations(range(count), 2):
        shared = letters[first] & letters[second]
        assert bool(shared) != bool(significant[first, second]), (first, second, letters)
    assert "a" in letters[0]
    # No letter lies within another (absorbed), none is repeated.
    sets = letter_sets(significant)
    assert len(set(sets)) == len(sets)
    assert not any(a != b and a | b == b for a, b in itertools.permutations(sets, 2))


def test_many_letters_stay_readable():
    names = letter_names(60)
    assert names[:3] == ["a", "b", "c"] and names[26] == "A" and names[52:54] == ["a1", "b1"]
    count = 60  # every result differs from every other: a letter each
    letters = compact_letters(~np.eye(count, dtype=bool))
    assert [split_letters(text) for text in letters] == [{name} for name in names]


def test_a_matrix_that_is_not_symmetric_is_refused():
    with pytest.raises(ValueError, match="symmetric"):
        compact_letters(np.triu(np.ones((3, 3), dtype=bool), k=1))
