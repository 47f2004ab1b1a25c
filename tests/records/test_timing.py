"""Timing summary from hand-made batch rows with known answers."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cifar_zeroshot.records.logits import TIMING_COLUMNS
from cifar_zeroshot.records.run_facts import TimingSummary, field_names
from cifar_zeroshot.records.timing import BatchFigures, images_per_joule, summarise_batches


def _rows(entries: list[tuple[bool, int, float]], padded: int = 4) -> pd.DataFrame:
    """(warmup, real images, total seconds) per batch; the parts split the total evenly."""
    rows = []
    for index, (warmup, images, total) in enumerate(entries):
        rows.append(
            {
                "batch_index": index,
                "warmup": warmup,
                "images": images,
                "padded_images": padded,
                "input_seconds": total / 4,
                "forward_seconds": total / 2,
                "output_seconds": total / 4,
                "total_seconds": total,
            }
        )
    frame = pd.DataFrame(rows)
    assert list(frame.columns) == list(TIMING_COLUMNS)
    return frame


def test_warmup_rows_are_excluded_and_padding_is_not_counted() -> None:
    # Two slow warm-ups (autotuning), then 4 + 4 + 2 real images (the last batch padded to 4).
    batches = _rows(
        [(True, 4, 9.0), (True, 4, 5.0), (False, 4, 0.1), (False, 4, 0.3), (False, 2, 0.1)]
    )
    summary = summarise_batches(batches)
    assert summary.timed_images == 10
    assert summary.timed_batches == 3
    assert summary.warmup_batches == 2
    assert summary.images_per_second == pytest.approx(10 / 0.5)
    assert summary.ms_per_image == pytest.approx(1000 * 0.5 / 10)
    # Percentiles of 100, 300, 100 ms, numpy's linear interpolation: sorted 100, 100, 300.
    assert summary.latency_p50_ms == pytest.approx(100.0)
    assert summary.latency_p90_ms == pytest.approx(100 + 0.8 * 200)
    assert summary.latency_p99_ms == pytest.approx(100 + 0.98 * 200)


def test_percentiles_of_many_batches() -> None:
    totals = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    summary = summarise_batches(_rows([(False, 4, t) for t in totals]))
    expected = np.percentile(np.arange(1, 101, dtype=float), [50, 90, 99])
    assert summary.latency_p50_ms == pytest.approx(expected[0]) == pytest.approx(50.5)
    assert summary.latency_p90_ms == pytest.approx(expected[1]) == pytest.approx(90.1)
    assert summary.latency_p99_ms == pytest.approx(expected[2]) == pytest.approx(99.01)
    assert summary.timed_images == 400
    assert summary.images_per_second == pytest.approx(400 / sum(totals))


def test_only_warmups_gives_no_rates() -> None:
    summary = summarise_batches(_rows([(True, 4, 1.0)]))
    assert summary.timed_images == 0
    assert summary.timed_batches == 0
    assert summary.warmup_batches == 1
    for key in ("images_per_second", "ms_per_image", "latency_p50_ms", "latency_p99_ms"):
        assert getattr(summary, key) is None


def test_row_figures_are_part_of_the_timing_summary() -> None:
    summary = summarise_batches(_rows([(False, 4, 1.0)]))
    assert isinstance(summary, BatchFigures)
    assert set(field_names(BatchFigures)) <= set(field_names(TimingSummary))
    assert len(field_names(TimingSummary)) == 20
    rest = set(field_names(TimingSummary)) - set(field_names(BatchFigures))
    assert {"compile_seconds", "oom_retries", "end_to_end_images_per_second"} <= rest
    # The same values under the same names: a TimingSummary takes them as they are.
    values = dict.fromkeys(rest, 0)
    full = TimingSummary(**dataclasses.asdict(summary), **values)
    assert full.images_per_second == summary.images_per_second == pytest.approx(4.0)


def test_images_per_joule():
    assert images_per_joule(10_000, 250.0) == 40.0
    assert images_per_joule(10_000, None) is None
    assert images_per_joule(10_000, 0.0) is None
