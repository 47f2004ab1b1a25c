"""An exported ONNX file and its record: what was exported, and whether the file is still intact.

The export job writes `{model}.onnx`, then `{model}.onnx.json` beside it with the file's size,
SHA-256 and modification time. A file that no longer matches its record (truncated by a full disk,
edited, half-copied) is never run: the workflow deletes it while it plans the jobs that need it,
so that Snakemake exports it again first (`remove_damaged_exports`; a dry run only says so), and
an inference job checks the digest once more before it opens the file (`check_intact`).
"""

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.file_digests import file_sha256
from cifar_zeroshot.core.variants import Variant

log = logging.getLogger(__name__)

RECORD_SUFFIX = ".json"  # the record of results/onnx/x.onnx is results/onnx/x.onnx.json
EXPORT_PATH = "results/onnx/{model}.onnx"  # the export rule's output, one per model
# The quantise rule's output: the export statically quantised (int8), beside it.
QUANTISED_PATH = "results/onnx/{model}.int8.onnx"


@dataclass(frozen=True)
class ExportRecord:
    model: str
    weights: str  # models.weights_label: "ResNet50_Weights.IMAGENET1K_V2" or "none"
    input_shape: list[int | str]  # the graph's input: a name where a dimension is dynamic
    opset: int
    torch_version: str
    size: int  # bytes of the .onnx file
    sha256: str
    mtime_ns: int  # when the .onnx file was written: unchanged, it need not be hashed again


@dataclass(frozen=True)
class Calibration:
    """The images a quantised model was calibrated on: none of them is scored by its runs."""

    image_set: str  # "training set" or the test set's name
    path: str  # the .npz read
    images_sha256: str  # of the calibration images and labels (data.test_set.images_digest)
    indices: list[int]  # their rows in that file
    method: str  # onnxruntime.quantization's CalibrationMethod, e.g. "MinMax"


@dataclass(frozen=True)
class QuantisedRecord:
    model: str
    weights: str
    source_sha256: str  # the fp32 export it was quantised from
    torch_version: str  # that export's
    quantisation: str  # format and types, e.g. "static QDQ, activations QUInt8, ..."
    calibration: Calibration
    excluded_nodes: list[str]  # nodes left in fp32
    size: int
    sha256: str
    mtime_ns: int

    @property
    def calibration_count(self) -> int:
        return len(self.calibration.indices)


def is_quantised(onnx_path: Path) -> bool:
    return onnx_path.name.endswith(".int8.onnx")


def record_path(onnx_path: Path) -> Path:
    return onnx_path.with_name(onnx_path.name + RECORD_SUFFIX)


def exported_inputs(model: str, variant: Variant) -> dict[str, str]:
    """The inputs an inference job takes from the export rule: none for a runtime that runs
    the torch model."""
    if not variant.runtime_spec.reads_export:
        return {}
    path = Path((QUANTISED_PATH if variant.quantised else EXPORT_PATH).format(model=model))
    return {"onnx": str(path), "onnx_record": str(record_path(path))}


def write_record(record: ExportRecord | QuantisedRecord, path: Path) -> None:
    with atomic_path(path) as temp:
        temp.write_text(json.dumps(dataclasses.asdict(record), indent=2, sort_keys=True) + "\n")


def read_record(path: Path) -> ExportRecord | QuantisedRecord:
    """The record at ``path``: a quantised model's (``*.int8.onnx.json``) or an export's."""
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if is_quantised(path.with_suffix("")):
            raw["calibration"] = Calibration(**raw["calibration"])
            return QuantisedRecord(**raw)
        return ExportRecord(**raw)
    except FileNotFoundError:
        raise UserError(
            f"{path} is missing: the exported model beside it cannot be checked, so it is not "
            "used. Rerun snakemake: the model is exported again."
        ) from None
    except (ValueError, TypeError, KeyError) as error:
        raise UserError(
            f"{path} is not an export record this workflow wrote ({error}). Delete it and the "
            ".onnx file beside it, and rerun snakemake."
        ) from None


def _mismatch(
    onnx_path: Path, record: ExportRecord | QuantisedRecord, *, trust_mtime: bool
) -> str | None:
    """Why the file differs from its record, or None when it matches."""
    if not onnx_path.is_file():
        return "the file is missing"
    stat = onnx_path.stat()
    if stat.st_size != record.size:
        return f"it has {stat.st_size:,} bytes, the export wrote {record.size:,}"
    if trust_mtime and stat.st_mtime_ns == record.mtime_ns:
        return None
    digest = file_sha256(onnx_path)
    if digest != record.sha256:
        return f"its SHA-256 is {digest[:16]}..., the export wrote {record.sha256[:16]}..."
    return None


def check_intact(onnx_path: Path) -> ExportRecord | QuantisedRecord:
    """The record of ``onnx_path``, after its size and digest are checked against the file."""
    record = read_record(record_path(onnx_path))
    problem = _mismatch(onnx_path, record, trust_mtime=False)
    if problem:
        raise UserError(
            f"The exported model {onnx_path} is damaged ({problem}); it was not used. Delete it "
            "and rerun snakemake: it is made again."
        )
    return record


def remove_damaged_exports(onnx_paths: list[Path], *, dry_run: bool = False) -> list[str]:
    """Delete each existing export that does not match its record; say what was deleted.

    Meant for planning (before any job runs), so that Snakemake sees the file missing and
    exports it again for the first job that needs it. ``dry_run``: delete nothing, only say what
    a run would delete. An unchanged file (same size and modification time as recorded) is not
    hashed again; a touched one is.
    """
    removed = []
    for onnx_path in onnx_paths:
        record_file = record_path(onnx_path)
        if not onnx_path.exists() and not record_file.exists():
            continue
        try:
            problem = _mismatch(onnx_path, read_record(record_file), trust_mtime=True)
        except UserError:
            problem = f"its record {record_file} is missing or unreadable"
        if problem and dry_run:
            removed.append(
                f"{onnx_path} is damaged ({problem}): left as it is, since no job runs now; a "
                "run deletes it and exports it again"
            )
        elif problem:
            onnx_path.unlink(missing_ok=True)
            record_file.unlink(missing_ok=True)
            removed.append(f"{onnx_path} was damaged ({problem}): deleted, to be exported again")
    return removed
