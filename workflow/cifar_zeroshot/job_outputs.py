"""What an inference job writes, fed from its forward's one [B, width] output per batch.

A classifier's test-set job writes logits (and, for the linear probe, its penultimate features
beside them); a training-set job writes features only; a CLIP job writes image embeddings.
"""

import contextlib
from collections.abc import Iterator

from cifar_zeroshot.batch_loop import BatchWriter
from cifar_zeroshot.embeddings_io import EmbeddingsWriter
from cifar_zeroshot.features_io import FeaturesWriter, SplitWriter
from cifar_zeroshot.inference_request import InferenceRequest
from cifar_zeroshot.labels import NUM_IMAGENET_CLASSES
from cifar_zeroshot.logits_io import LogitsWriter
from cifar_zeroshot.run_facts import RunFacts


@contextlib.contextmanager
def output_writers(request: InferenceRequest, facts: RunFacts, width: int) -> Iterator[BatchWriter]:
    """The writer of each output file ``request`` asks for; every file appears only when the
    pass succeeds (parquet_rows.RowsWriter)."""
    if request.embeddings_path is not None:
        with EmbeddingsWriter(request.embeddings_path, facts, width) as embeddings:
            yield embeddings
        return
    with contextlib.ExitStack() as stack:
        logits = None
        if request.logits_path is not None:  # entered first, so it is closed last
            logits = stack.enter_context(LogitsWriter(request.logits_path, facts))
        if request.features_path is None:
            yield logits
            return
        feature_width = width - (NUM_IMAGENET_CLASSES if logits is not None else 0)
        features = stack.enter_context(FeaturesWriter(request.features_path, facts, feature_width))
        yield SplitWriter([(width - feature_width, logits), (feature_width, features)])
