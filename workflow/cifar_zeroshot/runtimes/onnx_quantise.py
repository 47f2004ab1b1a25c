"""Static INT8 quantisation of an exported model, for the onnxruntime runtime's int8 precision.

Once per model and weights (its own Snakemake rule, after the export): the checked fp32 export
goes through ``onnxruntime.quantization.quantize_static`` in QDQ format, weights per output
channel, calibrated (min/max of each activation) on preprocessed images that no run of the model
scores. Activations are unsigned 8-bit and weights signed (U8S8), the form x86's VNNI
instructions multiply directly: on this project's AVX-512 VNNI CPU it ran ResNet50 about 1.5x
faster than signed activations (S8S8). The result is checked to load and give finite logits
of the export's shape before its record (onnx_file.QuantisedRecord) is written; a model the
quantiser cannot handle fails with its reason, and nothing is left.
"""

import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.file_digests import file_sha256
from cifar_zeroshot.runtimes.onnx_file import (
    Calibration,
    ExportRecord,
    QuantisedRecord,
    check_intact,
    record_path,
    write_record,
)

log = logging.getLogger(__name__)

CALIBRATION_METHOD = "MinMax"
QUANTISATION = "static, QDQ format, activations QUInt8 per tensor, weights QInt8 per channel"

# Batches of preprocessed float32 NCHW images, made anew on each call (the quantiser reads them
# once; a generator keeps one batch in memory at a time).
CalibrationBatches = Callable[[], Iterator[np.ndarray]]


def _reader(input_name: str, batches: CalibrationBatches) -> object:
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.batches = batches()

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {input_name: batch}

    return Reader()


def _quantise(source: Path, temp: Path, batches: CalibrationBatches, exclude: list[str]) -> None:
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from cifar_zeroshot.runtimes.onnx_export import INPUT_NAME

    quantize_static(
        str(source),
        str(temp),
        _reader(INPUT_NAME, batches),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=getattr(CalibrationMethod, CALIBRATION_METHOD),
        nodes_to_exclude=exclude,
    )


def _check_runs(temp: Path, example: np.ndarray, threads: int) -> None:
    """The quantised graph loads and gives finite logits, one row per image."""
    from cifar_zeroshot.runtimes.onnx_export import INPUT_NAME, OUTPUT_NAME
    from cifar_zeroshot.runtimes.onnx_forward import cpu_session

    logits = cpu_session(temp, threads).run([OUTPUT_NAME], {INPUT_NAME: example})[0]
    if logits.shape[0] != len(example) or not np.isfinite(logits).all():
        raise ValueError(f"it gives logits of shape {logits.shape}, not all finite")


def quantise_export(
    source: Path,
    destination: Path,
    batches: CalibrationBatches,
    calibration: Calibration,
    *,
    threads: int,
    exclude: tuple[str, ...] = (),
) -> QuantisedRecord:
    """Quantise the checked export ``source`` into ``destination`` and write its record.

    ``calibration`` says which images ``batches`` yields; ``exclude``: node names kept in fp32.
    """
    export = check_intact(source)
    assert isinstance(export, ExportRecord)  # the export rule's file, not a quantised one
    what = f"{export.model} ({export.weights})"
    example = next(batches())[:2]
    with atomic_path(destination) as temp:
        try:
            _quantise(source, temp, batches, list(exclude))
            _check_runs(temp, example, threads)
        except Exception as error:
            log.error("quantisation failed:\n%s", traceback.format_exc())
            reason = str(error).strip().splitlines()[0] if str(error).strip() else "no message"
            raise UserError(
                f"onnxruntime.quantization could not quantise {what} to int8: "
                f"{type(error).__name__}: {reason[:300]}. Its other variants are unaffected; "
                "run this model without int8 in precision (the full message is in this job's "
                "log)."
            ) from None
        size, digest = temp.stat().st_size, file_sha256(temp)
    record = QuantisedRecord(
        model=export.model,
        weights=export.weights,
        source_sha256=export.sha256,
        torch_version=export.torch_version,
        quantisation=QUANTISATION,
        calibration=calibration,
        excluded_nodes=list(exclude),
        size=size,
        sha256=digest,
        mtime_ns=destination.stat().st_mtime_ns,
    )
    write_record(record, record_path(destination))
    log.info(
        "quantised %s: %s bytes (the export: %s), calibrated on %d images of the %s",
        what,
        f"{size:,}",
        f"{export.size:,}",
        record.calibration_count,
        calibration.image_set,
    )
    return record
