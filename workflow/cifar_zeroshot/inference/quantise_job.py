"""The quantise job: one model's fp32 export -> its int8 copy, calibrated on images no run scores.

The calibration images go through the model's own preprocessing, the very function an inference
job applies (models.preprocess.preprocess_batch with the weights' spec from the model source),
so the quantiser sees the activations the runs will. Where they come from (config.planning
chooses): a fixed sample of the training set, or, where a run has no training set, the last
images of a test set, which every run of that set then leaves out (its run limit stops before
them).
"""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from cifar_zeroshot.data.image_set import ImageSet, load_image_set
from cifar_zeroshot.data.test_set import images_digest
from cifar_zeroshot.inference.model_source import classifier_source
from cifar_zeroshot.inference.request import JobKind
from cifar_zeroshot.models.preprocess import preprocess_batch
from cifar_zeroshot.models.torchvision.classifiers import load_model
from cifar_zeroshot.models.weights_file import WeightsFile
from cifar_zeroshot.runtimes.calibration_source import TRAINING_SET, CalibrationSource
from cifar_zeroshot.runtimes.onnx_file import Calibration, QuantisedRecord
from cifar_zeroshot.runtimes.onnx_quantise import CALIBRATION_METHOD, quantise_export

CALIBRATION_BATCH = 16


def quantise_model(
    model: str,
    weights: str,
    source: Path,
    destination: Path,
    calibration: CalibrationSource,
    *,
    threads: int,
    weights_file: WeightsFile | None = None,
    exclude: tuple[str, ...] = (),
) -> QuantisedRecord:
    """Write ``destination`` (int8) and its record from the export ``source`` of ``model``."""
    model_source = classifier_source(
        model, weights, "weights", JobKind.LOGITS, load_model, weights_file=weights_file
    )
    spec = model_source.spec
    assert spec is not None  # a classifier's preprocessing is known before it is built
    kind = ImageSet.TRAINING if calibration.image_set == TRAINING_SET else ImageSet.TEST
    images, labels = load_image_set(calibration.path, kind)
    rows = calibration.indices(len(images))
    images, labels = images[rows], labels[rows]

    def batches() -> Iterator[np.ndarray]:
        for start in range(0, len(images), CALIBRATION_BATCH):
            chunk = torch.from_numpy(images[start : start + CALIBRATION_BATCH])
            yield preprocess_batch(chunk, spec).contiguous().numpy()

    record = Calibration(
        image_set=calibration.image_set,
        path=calibration.path,
        images_sha256=images_digest(images, labels),
        indices=[int(i) for i in rows],
        method=CALIBRATION_METHOD,
    )
    return quantise_export(source, destination, batches, record, threads=threads, exclude=exclude)
