"""results/reliability.csv: how far each method's confidence matches its accuracy, in the 15
bins of the ECE (methods/calibration.py); its diagram: report/reliability.py.
"""

from collections.abc import Sequence
from typing import Any

import pandas as pd

from cifar_zeroshot.analysis.evaluation import MethodResult
from cifar_zeroshot.analysis.metrics_tables import SCOPE_COLUMNS

RELIABILITY_COLUMNS = (
    *SCOPE_COLUMNS,
    "model",
    "variant",
    "method",
    "bin",
    "bin_low",
    "bin_high",
    "images",
    "mean_confidence",
    "accuracy",
)


def reliability_table(results: Sequence[MethodResult]) -> pd.DataFrame:
    """Every bin of every result, empty bins too (their confidence and accuracy empty)."""
    rows: list[dict[str, Any]] = []
    for result in results:
        bins = result.reliability
        for m, images in enumerate(bins.images):
            rows.append(
                dict(zip((*SCOPE_COLUMNS, "model", "variant", "method"), result.key, strict=True))
                | {"bin": m, "bin_low": bins.edges[m], "bin_high": bins.edges[m + 1]}
                | {
                    "images": int(images),
                    "mean_confidence": bins.confidence_sum[m] / images if images else None,
                    "accuracy": bins.correct[m] / images if images else None,
                }
            )
    return pd.DataFrame(rows, columns=list(RELIABILITY_COLUMNS)).astype({"severity": "Int64"})
