"""The few-shot probes against zero-shot, as numbers (figure and sentence: report/few_shot.py).

Per probed run, the few-shot probes' test top-1 (results/few_shot/{model}/{variant}.csv, one row
per k and draw) against k, and the run's zero-shot top-1 (class mapping) from metrics.csv. What
zero-shot is worth in labels: the k at which the mean over draws first reaches the zero-shot
top-1, interpolated linearly in log k between the two ks around it; "fewer than 1" when the
probe on one image per class already matches it, "more than" the largest k when no k does.
"""

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cifar_zeroshot.core.csv_output import read_recorded_csv
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod


def read_few_shot(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The few-shot files, each refused where its rows are not the ones its job wrote."""
    frames = [
        read_recorded_csv(
            path,
            f"Fix: delete {path} and rerun snakemake: the few-shot job writes it again from the "
            "stored features.",
            dtype={"variant": str},
        )
        for path in paths
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def curve(few_shot: pd.DataFrame, model: str, variant: str) -> pd.DataFrame:
    """Per k: mean, min and max test top-1 over the draws, k ascending."""
    rows = few_shot[(few_shot["model"] == model) & (few_shot["variant"] == variant)]
    stats = rows.groupby("k")["test_top1"].agg(["mean", "min", "max"])
    return stats.sort_index()


def zero_shot_top1(metrics: pd.DataFrame, model: str, variant: str) -> float:
    rows = metrics[
        (metrics["model"] == model)
        & (metrics["variant"] == variant)
        & (metrics["method"] == ClassMappingMethod.name)
    ]
    return float(rows["top1"].iloc[0]) if len(rows) else math.nan


def worth(shots: Sequence[int], means: Sequence[float], zero_shot: float) -> str:
    """What zero-shot is worth in labelled images per class, as words ("about 3.2")."""
    for i, (k, mean) in enumerate(zip(shots, means, strict=True)):
        if mean >= zero_shot:
            if i == 0:
                return "fewer than 1" if k == 1 else f"at most {k}"
            k0, m0 = shots[i - 1], means[i - 1]
            share = (zero_shot - m0) / (mean - m0)
            value = math.exp(math.log(k0) + share * (math.log(k) - math.log(k0)))
            return f"about {value:.1f}"
    return f"more than {shots[-1]} (the largest k)"
