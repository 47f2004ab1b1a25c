"""The forward pass of the onnxruntime runtime: an ONNX Runtime session called like a torch model.

The batch loop hands it the preprocessed batch as a torch tensor and gets the logits back as
one, so preprocessing, padding, timing and the Parquet files are the torch runtime's own. On the
CPU the session runs the CPU execution provider with the job's threads; on CUDA the CUDA
execution provider (onnxruntime-gpu), reading and writing torch's GPU memory in place.
"""

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_IMAGENET_CLASSES
from cifar_zeroshot.runtimes.onnx_file import check_intact

log = logging.getLogger(__name__)

_CPU = "CPUExecutionProvider"
_CUDA = "CUDAExecutionProvider"


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise UserError(
            "The onnxruntime runtime needs the onnxruntime package, which is not installed. Fix: "
            "pip install onnxruntime (onnxruntime-gpu for CUDA), or drop onnxruntime from runtime."
        ) from None
    return onnxruntime


def _options(threads: int) -> Any:
    ort = _onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # one graph node at a time, as torch runs them
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its warnings are about its own internals
    # Its threads sleep between runs instead of spinning: torch preprocesses the next batch
    # and the Parquet writer encodes the last one on the same cores (spinning doubled the
    # preprocessing time of AlexNet's job on 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def cpu_session(onnx_path: Path, threads: int) -> Any:
    """An ONNX Runtime session on the CPU execution provider."""
    ort = _onnxruntime()
    return ort.InferenceSession(str(onnx_path), _options(threads), providers=[_CPU])


def _cuda_session(onnx_path: Path, precision: str, threads: int) -> Any:
    ort = _onnxruntime()
    if _CUDA not in ort.get_available_providers():
        raise UserError(
            f"The onnxruntime runtime on CUDA needs ONNX Runtime's CUDA execution provider, which "
            f"the installed onnxruntime {ort.__version__} lacks (it has "
            f"{', '.join(ort.get_available_providers())}). Fix: pip uninstall onnxruntime && "
            "pip install onnxruntime-gpu, or set device to cpu, or drop onnxruntime from runtime."
        )
    if hasattr(ort, "preload_dlls"):
        ort.preload_dlls()  # the CUDA and cuDNN libraries that torch's wheels brought
    # TF32 off for fp32, as torch's reference; cuDNN autotuning as with torch.
    cuda = {"device_id": 0, "use_tf32": int(precision == "tf32")}
    session = ort.InferenceSession(
        str(onnx_path), _options(threads), providers=[(_CUDA, cuda), _CPU]
    )
    if session.get_providers()[0] != _CUDA:
        raise UserError(
            f"ONNX Runtime could not start its CUDA execution provider (it fell back to "
            f"{session.get_providers()[0]}): its CUDA or cuDNN libraries do not match this "
            "machine. Install the onnxruntime-gpu build for this CUDA version, or set device to "
            "cpu."
        )
    return session


class OnnxForward:
    """Calls an ONNX Runtime session on torch tensors: [N, 3, H, W] float32 -> [N, 1000]."""

    def __init__(self, session: Any, device: torch.device) -> None:
        self.session = session
        self.device = device
        self.input = session.get_inputs()[0]
        self.output = session.get_outputs()[0]

    def _check_shape(self, x: torch.Tensor) -> None:
        expected = self.input.shape[1:]
        for size, wanted in zip(x.shape[1:], expected, strict=True):
            if isinstance(wanted, int) and size != wanted:
                raise UserError(
                    f"The exported model takes images of shape {expected}, this variant's "
                    f"preprocessing gives {list(x.shape[1:])}: run this preprocessing with the "
                    "torch runtime."
                )

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self._check_shape(x)
        x = x.contiguous()  # ONNX Runtime reads plain NCHW memory
        if self.device.type != "cuda":
            (logits,) = self.session.run([self.output.name], {self.input.name: x.numpy()})
            return torch.from_numpy(logits)
        # On the GPU: bind torch's memory; wait for the preprocessing that writes x first, as
        # ONNX Runtime works on its own stream. run_with_iobinding returns when y is written.
        y = torch.empty((x.shape[0], NUM_IMAGENET_CLASSES), dtype=torch.float32, device=x.device)
        binding = self.session.io_binding()
        index = x.device.index or 0
        binding.bind_input(self.input.name, "cuda", index, np.float32, tuple(x.shape), x.data_ptr())
        binding.bind_output(
            self.output.name, "cuda", index, np.float32, tuple(y.shape), y.data_ptr()
        )
        torch.cuda.current_stream(x.device).synchronize()
        self.session.run_with_iobinding(binding)
        return y


def onnx_forward(
    onnx_path: Path, what: tuple[str, str], device: torch.device, precision: str, threads: int
) -> OnnxForward:
    """The export of ``what`` (model, weights label) as a forward function on ``device``.

    A damaged file, or one exported from another model or weights, is refused.
    """
    record = check_intact(onnx_path)
    if (record.model, record.weights) != what:
        raise UserError(
            f"{onnx_path} was exported from {record.model} ({record.weights}), but this job runs "
            f"{what[0]} ({what[1]}). Delete it and rerun snakemake: it is exported again."
        )
    if device.type == "cuda":
        session = _cuda_session(onnx_path, precision, threads)
    else:
        session = cpu_session(onnx_path, threads)
    log.info(
        "ONNX Runtime %s on %s: %s (%s, exported with torch %s)",
        _onnxruntime().__version__,
        session.get_providers()[0],
        onnx_path,
        record.weights,
        record.torch_version,
    )
    return OnnxForward(session, device)
