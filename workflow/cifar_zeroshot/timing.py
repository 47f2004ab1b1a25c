"""Throughput and latency figures from the per-batch timing rows of one inference run.

Warm-up rows are kept in the timing file (they show cuDNN autotuning and compilation) but never
enter a figure; padding rows of the last batch are never counted as images.
"""

from typing import Any

import numpy as np
import pandas as pd

# Every key of the timing summary (contract); inference fills the ones not derived from rows.
SUMMARY_KEYS: tuple[str, ...] = (
    "images_per_second",
    # Images over the time from the first timed batch until the logits file is on disk.
    "end_to_end_images_per_second",
    "ms_per_image",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "timed_images",
    "timed_batches",
    "warmup_batches",
    "model_load_seconds",
    "compile_seconds",
    "batch_size",
    "batch_size_requested",
    "oom_retries",
    "torch_peak_allocated_bytes",
    "torch_peak_reserved_bytes",
    "nvml_process_bytes",
    "host_peak_rss_bytes",
)

PERCENTILES: tuple[int, ...] = (50, 90, 99)


def summarise_batches(batches: pd.DataFrame) -> dict[str, Any]:
    """The summary keys that come from the rows: rates, batch latency percentiles, counts.

    images/s = timed real images / timed total seconds; latency percentiles are of the
    per-batch ``total_seconds`` (every batch has the same shape). With no timed batch the
    rates are None.
    """
    warmup = batches["warmup"].astype(bool)
    timed = batches.loc[~warmup]
    images = int(timed["images"].sum())
    seconds = float(timed["total_seconds"].sum())
    summary: dict[str, Any] = {
        "images_per_second": images / seconds if images and seconds > 0 else None,
        "ms_per_image": 1000.0 * seconds / images if images else None,
        "timed_images": images,
        "timed_batches": len(timed),
        "warmup_batches": int(warmup.sum()),
    }
    latencies_ms = timed["total_seconds"].to_numpy(dtype=np.float64) * 1000.0
    for q in PERCENTILES:
        value = float(np.percentile(latencies_ms, q)) if latencies_ms.size else None
        summary[f"latency_p{q}_ms"] = value
    return summary
