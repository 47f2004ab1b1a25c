"""What an inference job writes, fed from its forward's one [B, width] output per batch.

A classifier's test-set job writes logits (and, for the linear probe, its penultimate features
beside them); a training-set job writes features only, as does a test-set job of a classifier
the linear probe alone scores; a CLIP job writes image embeddings.
"""

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np

from cifar_zeroshot.core.labels import NUM_IMAGENET_CLASSES
from cifar_zeroshot.inference.batch_loop import BatchWriter
from cifar_zeroshot.inference.request import InferenceRequest, JobKind
from cifar_zeroshot.records.embeddings import EmbeddingsWriter
from cifar_zeroshot.records.features import FeaturesWriter
from cifar_zeroshot.records.logits import LogitsWriter
from cifar_zeroshot.records.run_facts import RunFacts


@contextlib.contextmanager
def output_writers(
    request: InferenceRequest, kind: JobKind, facts: RunFacts, width: int
) -> Iterator[BatchWriter]:
    """The writer of each output file of ``kind`` (request.JobKind); every file appears only
    when the pass succeeds (parquet_rows.RowsWriter)."""
    if kind is JobKind.EMBEDDINGS:
        with EmbeddingsWriter(request.embeddings_path, facts, width) as embeddings:
            yield embeddings
    elif kind is JobKind.LOGITS:
        with LogitsWriter(request.logits_path, facts) as logits:
            yield logits
    elif kind in (JobKind.TRAINING_FEATURES, JobKind.TEST_FEATURES):
        with FeaturesWriter(request.features_path, facts, width) as features:
            yield features
    else:  # LOGITS_AND_FEATURES: the forward returns [logits | features] (penultimate.py)
        feature_width = width - NUM_IMAGENET_CLASSES
        # The logits writer is entered first, so it is closed last.
        with (
            LogitsWriter(request.logits_path, facts) as logits,
            FeaturesWriter(request.features_path, facts, feature_width) as features,
        ):
            yield SplitWriter([(NUM_IMAGENET_CLASSES, logits), (feature_width, features)])


class SplitWriter:
    """Hands each part of a batch's columns to its own writer: logits to one file, features to
    another. A part whose writer is None is dropped."""

    def __init__(self, parts: Sequence[tuple[int, BatchWriter | None]]) -> None:
        self.parts = list(parts)

    def write_batch(self, image_index: np.ndarray, labels: np.ndarray, values: np.ndarray) -> None:
        start = 0
        for width, writer in self.parts:
            if writer is not None:
                writer.write_batch(image_index, labels, values[:, start : start + width])
            start += width
        if start != values.shape[1]:
            raise ValueError(f"parts cover {start} columns of {values.shape[1]}")
