"""Throughput and latency figures from the per-batch timing rows of one inference run.

Warm-up rows are kept in the timing file (they show cuDNN autotuning and compilation) but never
enter a figure; padding rows of the last batch are never counted as images.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BatchFigures:
    """The part of run_facts.TimingSummary that the rows give (same field names)."""

    images_per_second: float | None
    ms_per_image: float | None
    latency_p50_ms: float | None
    latency_p90_ms: float | None
    latency_p99_ms: float | None
    timed_images: int
    timed_batches: int
    warmup_batches: int


def _percentile(values: np.ndarray, q: int) -> float | None:
    return float(np.percentile(values, q)) if values.size else None


def summarise_batches(batches: pd.DataFrame) -> BatchFigures:
    """Rates, batch latency percentiles and counts of the timed (non-warm-up) rows.

    images/s = timed real images / timed total seconds; latency percentiles are of the
    per-batch ``total_seconds`` (every batch has the same shape). With no timed batch the
    rates are None.
    """
    warmup = batches["warmup"].astype(bool)
    timed = batches.loc[~warmup]
    images = int(timed["images"].sum())
    seconds = float(timed["total_seconds"].sum())
    latencies_ms = timed["total_seconds"].to_numpy(dtype=np.float64) * 1000.0
    return BatchFigures(
        images_per_second=images / seconds if images and seconds > 0 else None,
        ms_per_image=1000.0 * seconds / images if images else None,
        latency_p50_ms=_percentile(latencies_ms, 50),
        latency_p90_ms=_percentile(latencies_ms, 90),
        latency_p99_ms=_percentile(latencies_ms, 99),
        timed_images=images,
        timed_batches=len(timed),
        warmup_batches=int(warmup.sum()),
    )


def images_per_joule(images: int, joules: float | None) -> float | None:
    """Images per joule of GPU energy; None where the energy was not measured (or is 0)."""
    return images / joules if joules else None
