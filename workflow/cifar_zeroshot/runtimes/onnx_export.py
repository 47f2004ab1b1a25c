"""Export one classifier to ONNX with torch.onnx.export, for the onnxruntime runtime.

Once per model and weights (its own Snakemake rule): fp32, on the CPU, with a dynamic batch
dimension so that every batch size (and the out-of-memory halving) runs the same file, and the
image's height and width dynamic where the model allows it (Dim.AUTO keeps them fixed for models
that need one size, such as the vision transformers). The file is a single .onnx with its
weights inside, checked with onnx.checker and against torch's logits on two images before it is
recorded (onnx_file.py); a model the exporter cannot convert fails with the exporter's reason.
``export_module`` exports any built classifier (the export job builds it through the inference
job's model source, inference/export_job.py); ``export_onnx`` builds a torchvision one.
"""

import logging
import re
import traceback
from pathlib import Path

import numpy as np
import torch

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.file_digests import file_sha256
from cifar_zeroshot.models.preprocess import DEFAULT_CROP, spec_for
from cifar_zeroshot.models.torchvision.classifiers import load_model, resolve_weights, weights_label
from cifar_zeroshot.runtimes.forward_loading import ModelLoader
from cifar_zeroshot.runtimes.onnx_file import ExportRecord, record_path, write_record

log = logging.getLogger(__name__)

INPUT_NAME = "images"
OUTPUT_NAME = "logits"
EXAMPLE_BATCH = 2  # not 1: torch.export would fix a dimension of size 1
# The exported graph reorders float sums (fused convolutions, other kernels): its logits agree
# with torch's to about 1e-5 of their range; a conversion bug is far off that.
AGREEMENT_TOLERANCE = 1e-3
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # the exporter colours its messages


def _example_input(crop: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(EXAMPLE_BATCH, 3, crop, crop, generator=generator)


def _first_line(error: BaseException, *, sentence: bool = False) -> str:
    lines = [line.strip() for line in _ANSI_COLOUR.sub("", str(error)).splitlines()]
    text = next((line for line in lines if line), "no message")
    text = text.split(". ")[0] if sentence else text
    return text if len(text) <= 300 else text[:300] + " ..."


def _exporter_reason(error: BaseException) -> str:
    """The exporter's own words, short: what step failed and the innermost cause.

    Its messages run to pages (next steps, graph dumps); the cause at the bottom of the chain
    names the operator or the Python construct it could not convert.
    """
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    reason = _first_line(error, sentence=True)
    if root is not error:
        reason += f" ({type(root).__name__}: {_first_line(root)})"
    return reason


def _convert(
    model: torch.nn.Module, example: torch.Tensor, temp: Path, what: str
) -> torch.onnx.ONNXProgram:
    import onnx  # installed with onnxruntime; imported here so torch-only work never needs it

    dims = {0: torch.export.Dim("batch"), 2: torch.export.Dim.AUTO, 3: torch.export.Dim.AUTO}
    weights_beside = Path(f"{temp}.data")
    try:
        program = torch.onnx.export(
            model,
            (example,),
            temp,
            dynamo=True,
            external_data=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=(dims,),
        )
        if weights_beside.exists():
            # Past 2 GB the exporter writes the weights beside the graph.
            raise UserError(
                f"{what} has over 2 GB of weights, which one .onnx file cannot hold. Run it "
                "without onnxruntime in runtime."
            )
        onnx.checker.check_model(temp)
    except UserError:
        raise
    except Exception as error:
        log.error("torch.onnx.export failed:\n%s", traceback.format_exc())
        raise UserError(
            f"torch.onnx.export could not convert {what}: {_exporter_reason(error)}. Its torch "
            "variants are unaffected; run this model without onnxruntime in runtime (the "
            "exporter's full message is in this job's log)."
        ) from None
    finally:
        weights_beside.unlink(missing_ok=True)
    assert program is not None  # dynamo=True always returns the program
    return program


def _check_agreement(temp: Path, model: torch.nn.Module, example: torch.Tensor, what: str) -> None:
    """The exported graph gives torch's logits on the example images, or nothing is written."""
    from cifar_zeroshot.runtimes.onnx_forward import cpu_session  # onnxruntime: only where exported

    session = cpu_session(temp, threads=torch.get_num_threads())
    exported = session.run([OUTPUT_NAME], {INPUT_NAME: example.numpy()})[0]
    with torch.inference_mode():
        expected = model(example).numpy()
    scale = max(1.0, float(np.abs(expected).max()))
    difference = float(np.abs(exported - expected).max())
    log.info("exported logits differ from torch's by at most %.3g (scale %.3g)", difference, scale)
    if exported.shape != expected.shape or not difference <= AGREEMENT_TOLERANCE * scale:
        raise UserError(
            f"The ONNX export of {what} computes other logits than torch (max |difference| "
            f"{difference:.3g} for logits up to {scale:.3g}): the conversion is wrong, so it is "
            "not used. Run this model without onnxruntime in runtime."
        )


def export_module(
    model: torch.nn.Module, crop: int, onnx_path: Path, *, model_name: str, weights_label: str
) -> ExportRecord:
    """Export ``model`` (its logits, from ``crop`` x ``crop`` images) to ``onnx_path`` and write
    its record, naming it ``model_name`` and ``weights_label`` as the inference job checks them.
    Nothing is left on failure."""
    what = f"{model_name} ({weights_label})"
    model = model.eval().float()
    example = _example_input(crop)
    log.info("exporting %s with input %s", what, tuple(example.shape))
    with atomic_path(onnx_path) as temp:
        program = _convert(model, example, temp, what)
        _check_agreement(temp, model, example, what)
        size, digest = temp.stat().st_size, file_sha256(temp)
    shape = program.model.graph.inputs[0].shape
    record = ExportRecord(
        model=model_name,
        weights=weights_label,
        input_shape=[d if isinstance(d, int) else str(d) for d in shape or ()],
        opset=program.model.opset_imports[""],
        torch_version=torch.__version__,
        size=size,
        sha256=digest,
        mtime_ns=onnx_path.stat().st_mtime_ns,  # a rename keeps it: the file as written
    )
    write_record(record, record_path(onnx_path))
    log.info("exported %s: %s bytes, input %s", what, f"{size:,}", record.input_shape)
    return record


def export_onnx(
    model_name: str, weights: str, onnx_path: Path, *, model_loader: ModelLoader = load_model
) -> ExportRecord:
    """Export a torchvision model: write ``onnx_path`` and its record; return the record."""
    resolved = resolve_weights(model_name, weights)  # checks the model name too
    crop = spec_for(resolved, "weights").crop_size or DEFAULT_CROP
    return export_module(
        model_loader(model_name, resolved),
        crop,
        onnx_path,
        model_name=model_name,
        weights_label=weights_label(resolved),
    )
