"""The export job: one torchvision or timm classifier -> its ONNX file and record.

The model is built by the same model source an inference job uses (model_source.py), so the
export holds the very module the torch variants run, with the weights label the onnxruntime
job checks the record against, and its example images have the model's own input size (a
timm model's data config: 160 x 160 for timm's test models, 384 for some ViTs).
"""

from pathlib import Path

from cifar_zeroshot.inference.model_source import classifier_source
from cifar_zeroshot.inference.request import JobKind
from cifar_zeroshot.models.preprocess import DEFAULT_CROP
from cifar_zeroshot.models.torchvision.classifiers import load_model
from cifar_zeroshot.models.weights_file import WeightsFile
from cifar_zeroshot.runtimes.forward_loading import ModelLoader
from cifar_zeroshot.runtimes.onnx_export import export_module
from cifar_zeroshot.runtimes.onnx_file import ExportRecord


def export_model(
    model: str,
    weights: str,
    onnx_path: Path,
    *,
    model_loader: ModelLoader = load_model,
    weights_file: WeightsFile | None = None,
) -> ExportRecord:
    """Write ``onnx_path`` and its record for ``model`` (a torchvision name or a timm slug) with
    ``weights`` as the config or models.resolved_weights name them, or the user's
    ``weights_file``. Nothing is left on failure.
    """
    source = classifier_source(
        model, weights, "weights", JobKind.LOGITS, model_loader, weights_file=weights_file
    )
    assert source.spec is not None  # a classifier's preprocessing is known before it is built
    return export_module(
        source.loader(model, source.weights),
        source.spec.crop_size or DEFAULT_CROP,
        onnx_path,
        model_name=model,
        weights_label=source.weights_label,
    )
