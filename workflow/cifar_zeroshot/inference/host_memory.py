"""Will a CPU batch fit in host memory? An estimate, so a job lowers its batch instead of dying.

On a GPU an out-of-memory error is an exception the job catches (oom_retry.py); on the CPU the
allocator fails in a traceback or the kernel kills the process. So a CPU job estimates its
memory per image first: the model is traced once on PyTorch's ``meta`` device (shapes only, no
data, milliseconds), and the largest input + output of any single layer, times a safety factor,
is taken as what one image adds. Measured on this project's CPU host against the peak RSS of a
real batch (MB per image, peak RSS / traced): alexnet 1.5 / 1.5, mobilenet_v3_small 2.7 / 1.8,
resnet50 10.9 / 6.4, vgg16 37.0 / 25.7, vit_b_16 11.7 / 4.8; hence a factor of 3.
"""

import logging
from collections.abc import Callable
from pathlib import Path

import psutil
import torch

from cifar_zeroshot.core.errors import UserError

log = logging.getLogger(__name__)

SAFETY_FACTOR = 3
# Leave room for the interpreter, the Parquet writer's queue and whatever else runs.
USABLE_SHARE = 0.8
_CGROUP = Path("/sys/fs/cgroup")


def _tensor_bytes(value: object) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_tensor_bytes(item) for item in value)
    return 0


def traced_bytes_per_image(
    build: Callable[[], torch.nn.Module], input_shape: tuple[int, int, int], dtype: torch.dtype
) -> int | None:
    """The largest input + output bytes of one leaf layer for one image; None if untraceable.

    ``build`` makes the model (it is called on the meta device, so no weights are read).
    Some models cannot run on the meta device (they copy data out of a tensor while building or
    running); for those there is no estimate.
    """
    peak = 0

    def record(module: torch.nn.Module, inputs: tuple, output: object) -> None:
        nonlocal peak
        peak = max(peak, _tensor_bytes(inputs) + _tensor_bytes(output))

    try:
        with torch.device("meta"):
            model = build().eval().to(dtype)
        for module in model.modules():
            if not any(True for _ in module.children()):
                module.register_forward_hook(record)
        with torch.inference_mode():
            model(torch.empty((1, *input_shape), device="meta", dtype=dtype))
    except (NotImplementedError, RuntimeError, TypeError, ValueError) as error:
        log.info("no host-memory estimate: the model does not trace on the meta device (%s)", error)
        return None
    return peak


def _cgroup_headroom() -> int | None:
    """What the job's cgroup (v2; e.g. a SLURM allocation) still allows; None without a limit."""
    try:
        limit = (_CGROUP / "memory.max").read_text().strip()
        used = int((_CGROUP / "memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    if limit == "max":
        return None
    return max(int(limit) - used, 0)


def available_host_bytes() -> int:
    """Memory this process can still take: the kernel's estimate, within the cgroup's limit."""
    available = int(psutil.virtual_memory().available)
    headroom = _cgroup_headroom()
    return available if headroom is None else min(available, headroom)


def cpu_batch_that_fits(
    requested: int, bytes_per_image: int | None, available_bytes: int, *, what: str
) -> int:
    """``requested``, or the first half, quarter, ... of it that the estimate says will fit.

    Halving, as the GPU's out-of-memory back-off does, so CPU and GPU runs of one config use
    sizes from the same sequence. ``what`` names the run in messages.
    """
    if bytes_per_image is None:
        return requested
    per_image = bytes_per_image * SAFETY_FACTOR
    usable = int(available_bytes * USABLE_SHARE)
    batch_size = requested
    while batch_size > 1 and batch_size * per_image > usable:
        batch_size //= 2
    if batch_size * per_image > usable:
        raise UserError(
            f"{what} needs about {per_image / 2**20:,.0f} MiB of host memory per image, but only "
            f"{available_bytes / 2**20:,.0f} MiB is available. Fix: free memory (other "
            "processes?), raise the job's memory (config inference_mem_mb on a cluster), or "
            "run on a GPU."
        )
    if batch_size != requested:
        log.warning(
            "%s: batch size %d needs about %.1f GiB of host memory (estimated), more than the "
            "%.1f GiB available; running with %d instead.",
            what,
            requested,
            requested * per_image / 2**30,
            available_bytes / 2**30,
            batch_size,
        )
    return batch_size
