"""Few-shot probes: draws per class, the strength's source by k, bit-for-bit repeats."""

import numpy as np
import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.probe.few_shot import (
    FIXED,
    HOLD_OUT,
    FewShotFeatures,
    draw_rows,
    few_shot_rows,
)
from cifar_zeroshot.methods.probe.few_shot_settings import FewShotSettings
from cifar_zeroshot.methods.probe.settings import ProbeSettings

PROBE = ProbeSettings(
    validation_fraction=0.2, regularisations=(0.1, 0.01), max_iterations=30, seed=0
)
WIDTH = 12


def _features(seed: int = 0, per_class: int = 20, shuffle: bool = False) -> FewShotFeatures:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), per_class)
    index = np.arange(len(labels))
    values = (3 * np.eye(10, WIDTH)[labels] + rng.normal(size=(len(labels), WIDTH))).astype(
        np.float32
    )
    test_labels = np.arange(50) % 10
    test = (3 * np.eye(10, WIDTH)[test_labels] + rng.normal(size=(50, WIDTH))).astype(np.float32)
    if shuffle:  # the same images in another file order
        order = rng.permutation(len(labels))
        index, labels, values = index[order], labels[order], values[order]
    return FewShotFeatures.ordered((index, labels, values), (test_labels, test))


def test_draws_take_k_of_every_class_without_replacement_and_repeat_with_the_seed():
    labels = np.repeat(np.arange(10), 7)
    rows = draw_rows(labels, 3, seed=0, draw=0)
    assert np.bincount(labels[rows]).tolist() == [3] * 10
    assert len(set(rows.tolist())) == 30
    np.testing.assert_array_equal(rows, draw_rows(labels, 3, seed=0, draw=0))
    assert not np.array_equal(rows, draw_rows(labels, 3, seed=0, draw=1))
    assert not np.array_equal(rows, draw_rows(labels, 3, seed=1, draw=0))
    with pytest.raises(UserError, match="fewer than few_shot_k=8"):
        draw_rows(labels, 8, seed=0, draw=0)


def test_the_curve_repeats_bit_for_bit_and_records_its_draws():
    settings = FewShotSettings((1, 4), draws=2, seed=3)
    first = few_shot_rows(_features(), settings, PROBE, full_strength=0.05)
    again = few_shot_rows(_features(), settings, PROBE, full_strength=0.05)
    shuffled = few_shot_rows(_features(shuffle=True), settings, PROBE, full_strength=0.05)
    keys = ("k", "draw", "regularisation", "test_top1", "train_image_indices")
    for run in (again, shuffled):  # the file's row order does not matter either
        assert [[row[key] for key in keys] for row in run] == [
            [row[key] for key in keys] for row in first
        ]
    assert [(row["k"], row["draw"]) for row in first] == [(1, 0), (1, 1), (4, 0), (4, 1)]
    drawn = [list(map(int, row["train_image_indices"].split())) for row in first]
    assert [len(d) for d in drawn] == [10, 10, 40, 40]
    # Image indices of the training set: class c holds images 20c..20c+19 here.
    assert sorted(i // 20 for i in drawn[0]) == list(range(10))
    other_seed = few_shot_rows(_features(), FewShotSettings((1,), 1, 4), PROBE, 0.05)
    assert other_seed[0]["train_image_indices"] != first[0]["train_image_indices"]


def test_the_strength_is_chosen_on_a_hold_out_where_k_allows_one_else_fixed():
    rows = few_shot_rows(_features(), FewShotSettings((1, 2, 4), 1, 0), PROBE, full_strength=0.05)
    by_k = {row["k"]: row for row in rows}
    # At fraction 0.2: 1 and 2 images per class hold none out; 4 hold one out.
    for k in (1, 2):
        assert by_k[k]["regularisation_from"] == FIXED
        assert by_k[k]["regularisation"] == 0.05
        assert np.isnan(by_k[k]["validation_top1"])
    assert by_k[4]["regularisation_from"] == HOLD_OUT
    assert by_k[4]["regularisation"] in PROBE.regularisations
    # Separable features: even one image per class beats chance clearly.
    assert all(row["test_top1"] > 0.3 for row in rows)
