"""A CLIP model's image embeddings on disk: one unit-length float32 row per test image.

results/embeddings/{model}/{variant}.parquet is what a CLIP run stores where a classifier's run
stores its logits (same layout, parquet_rows.py): prompt similarity is scored from it downstream,
so editing the prompts never reruns the image job.
"""

from pathlib import Path

import pyarrow as pa

from cifar_zeroshot.records.parquet_rows import RowsLayout, RowsTable, RowsWriter, read_rows
from cifar_zeroshot.records.run_facts import RunFacts

EMBEDDINGS_COLUMN = "embeddings"


class EmbeddingsWriter(RowsWriter):
    """Streams embeddings into a Parquet file (see parquet_rows.RowsWriter)."""

    def __init__(self, path: str | Path, facts: RunFacts, width: int) -> None:
        super().__init__(path, facts, RowsLayout(EMBEDDINGS_COLUMN, pa.float32(), width))


def read_embeddings(path: str | Path) -> RowsTable:
    """Read an embeddings file (any width) and refuse anything that would give wrong numbers."""
    return read_rows(path, None, EMBEDDINGS_COLUMN)
