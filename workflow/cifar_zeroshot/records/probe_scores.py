"""The linear probe's result file: its class scores per test image, and how it was fitted.

results/probe/{model}/{variant}.parquet has one row per test image (image_index, label, 10
float32 scores) and, in its metadata, the facts of the test-set run whose features it scored
(so metrics can check it belongs to that run) and a ProbeRecord.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.records.parquet_rows import (
    METADATA_KEY,
    RowsLayout,
    RowsTable,
    metadata_json,
    open_parquet,
    read_rows,
)
from cifar_zeroshot.records.run_facts import RunFacts, dataclass_from_mapping

PROBE_METADATA_KEY = b"cifar_zeroshot_probe"
SCORES_LAYOUT = RowsLayout("scores", pa.float32(), len(CIFAR10_CLASSES))


@dataclass(frozen=True)
class ProbeRecord:
    """How the probe was fitted, and what its training-set features job measured."""

    regularisation: float  # the L2 strength chosen on the held-out images
    validation_accuracy: float  # at that strength
    regularisations: list[float]  # the grid searched, strongest first
    validation_accuracies: list[float]  # per strength of the grid
    validation_fraction: float
    max_iterations: int
    seed: int
    iterations: int  # of the final refit
    fit_seconds: float  # the whole fit: search and refit
    train_images: int
    feature_width: int
    # From the training-set features job's timing summary (None where it does not apply).
    train_images_per_second: float | None
    train_host_peak_rss_bytes: int
    train_torch_peak_allocated_bytes: int | None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], path: Path) -> "ProbeRecord":
        return dataclass_from_mapping(cls, raw, path, "a probe record")


@dataclass(frozen=True)
class ProbeTable:
    rows: RowsTable  # values: the scores [N, 10]
    record: ProbeRecord

    @property
    def facts(self) -> RunFacts:
        return self.rows.facts


def write_probe_scores(
    path: str | Path,
    facts: RunFacts,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    record: ProbeRecord,
) -> None:
    """Write (image_index, labels, scores [N, 10]) with the run's facts and the record."""
    image_index, labels, scores = rows
    table = pa.table(
        {
            "image_index": pa.array(np.asarray(image_index, dtype=np.int32)),
            "label": pa.array(np.asarray(labels, dtype=np.int8)),
            "scores": pa.FixedSizeListArray.from_arrays(
                pa.array(np.ascontiguousarray(scores, dtype=np.float32).reshape(-1)),
                SCORES_LAYOUT.width,
            ),
        },
        schema=SCORES_LAYOUT.schema,
    )
    metadata = {METADATA_KEY: facts.to_json(), PROBE_METADATA_KEY: record.to_json()}
    with atomic_path(Path(path)) as temp:
        pq.write_table(table.replace_schema_metadata(metadata), temp)


def read_probe_scores(path: str | Path) -> ProbeTable:
    path = Path(path)
    rows = read_rows(path, SCORES_LAYOUT, SCORES_LAYOUT.column)
    raw = metadata_json(path, open_parquet(path).schema_arrow, PROBE_METADATA_KEY, "probe record")
    return ProbeTable(rows, ProbeRecord.from_mapping(raw, path))
