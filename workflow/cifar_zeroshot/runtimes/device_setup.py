"""The device an inference job runs on: choosing it, setting torch up for it, and naming it."""

import contextlib
import logging
import platform
from collections.abc import Iterator
from pathlib import Path

import torch

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.runtimes.cpu_features import bf16_missing
from cifar_zeroshot.runtimes.gpu_slots import gpu_slot

log = logging.getLogger(__name__)


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def set_threads(threads: int) -> None:
    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != 1:
        # Allowed only before the first parallel work in this process; later calls keep it.
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(1)


def set_precision(variant: Variant, device: torch.device) -> tuple[torch.dtype, bool]:
    """TF32 off for fp32 (the reference), on for tf32; bf16 runs model and inputs in bfloat16.

    Returns the model's input dtype and whether model and input are channels-last: always on
    the CPU with torch (oneDNN's convolutions run 1.3-1.9x faster in that layout, in every
    model family measured, see docs/performance.md), for bf16 on CUDA, never for ONNX Runtime
    (its input is a plain NCHW array; it picks its own layout inside).
    """
    if variant.precision == "bf16" and device.type == "cpu":
        _check_cpu_bf16()
    if variant.quantised and device.type == "cuda":
        raise UserError(
            f"Variant {variant.name} runs a statically quantised model, which this workflow runs "
            "on ONNX Runtime's CPU execution provider only. Fix: set device to cpu for it, or "
            "drop int8 from precision."
        )
    tf32 = variant.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    if device.type == "cuda":
        # Every batch has one shape, so autotuning once (during warm-up) pays off.
        torch.backends.cudnn.benchmark = True
    dtype = torch.bfloat16 if variant.precision == "bf16" else torch.float32
    if variant.runtime_spec.reads_export:
        return dtype, False
    return dtype, device.type == "cpu" or dtype == torch.bfloat16


def channels_last_applies(model: torch.nn.Module) -> bool:
    """Whether ``model`` can take the channels-last format: Module.to converts every rank-4
    and rank-5 tensor, and channels_last is a rank-4 format (lambda layers hold rank-5
    weights), so a model with a rank-5 parameter or buffer keeps its own format."""
    tensors = [*model.parameters(), *model.buffers()]
    return all(tensor.dim() != 5 for tensor in tensors)


def _check_cpu_bf16() -> None:
    """bf16 on the CPU runs on bf16 instructions, or not at all (planning refuses it for
    device cpu; this catches device auto without a GPU, and a job on another host)."""
    reason = bf16_missing()
    if reason is not None:
        raise UserError(
            f"bf16 on the CPU: {reason}. Fix: drop bf16 from precision, or run it on a GPU."
        )
    log.info("bf16 on the CPU: torch's CPU capability %s", torch.backends.cpu.get_cpu_capability())


@contextlib.contextmanager
def job_device(
    choice: str, lock_dir: Path, wait_seconds: float | None
) -> Iterator[tuple[torch.device, int | None]]:
    """Hold the device the job runs on; yield it and its physical GPU index (None on the CPU).

    ``choice`` is one of choices.DEVICES. The GPU is chosen (CUDA_VISIBLE_DEVICES, by
    gpu_slot) before anything asks torch about CUDA.
    """
    cpu_only = choice == "cpu"
    slot = (
        contextlib.nullcontext(None)
        if cpu_only
        else gpu_slot(lock_dir, timeout_seconds=wait_seconds)
    )
    with slot as gpu_index:
        if not cpu_only and torch.cuda.is_available():
            yield torch.device("cuda", 0), gpu_index
        elif choice == "cuda":
            raise UserError(
                f"device 'cuda' was asked for, but torch {torch.__version__} sees no CUDA GPU "
                "here. Fix: run on a machine with an NVIDIA GPU and a CUDA build of torch, or "
                "set device to 'auto' or 'cpu'."
            )
        else:
            yield torch.device("cpu"), None


def start_device(device: torch.device) -> str:
    """Initialise CUDA and zero its peak-memory figures; return the device's name."""
    if device.type != "cuda":
        return cpu_name()
    # Memory statistics fail ("Invalid device argument") before CUDA is initialised, and
    # nothing has touched CUDA yet in a fresh job process.
    torch.cuda.init()
    torch.cuda.reset_peak_memory_stats(device)
    return torch.cuda.get_device_name(device)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (nothing to wait for on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
