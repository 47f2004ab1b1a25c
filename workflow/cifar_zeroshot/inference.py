"""Run one model in one variant over the test set: logits and per-batch timing as Parquet.

What makes it fast on a GPU (see shared/anchors): the uint8 test set goes to the device once and
is preprocessed there; every batch has the same shape (the last one is padded by repeating its
last image, and the padding rows are dropped), so cuDNN autotuning and torch.compile happen once,
in the warm-up; on CUDA the next batch is queued before the previous batch's logits are read
back (two pinned host buffers), and the Parquet encoding runs in LogitsWriter's own thread.

Timing columns: on CUDA, input/forward/output are GPU times between CUDA events, and
total_seconds is the wall-clock time of one loop iteration (the loop waits for the previous
batch's logits), so the total seconds of the timed batches add up to the timed loop's wall time.
On the CPU every part is wall clock (time.perf_counter).
"""

import contextlib
import gc
import logging
import math
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import torch
import torchvision
from torchvision.models import WeightsEnum
from tqdm import tqdm

from cifar_zeroshot.dataset import load_test_set
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.gpu_slots import gpu_slot, nvml_query
from cifar_zeroshot.labels import NUM_IMAGENET_CLASSES
from cifar_zeroshot.logits_io import LogitsWriter, write_timing
from cifar_zeroshot.models import load_model, resolve_weights, weights_label
from cifar_zeroshot.preprocess import PreprocessSpec, preprocess_batch, spec_for
from cifar_zeroshot.timing import SUMMARY_KEYS, summarise_batches
from cifar_zeroshot.variants import Variant

log = logging.getLogger(__name__)

DEVICES: tuple[str, ...] = ("auto", "cuda", "cpu")
DEFAULT_GPU_LOCK_DIR = Path("logs/gpu_locks")

ModelLoader = Callable[[str, WeightsEnum | None], torch.nn.Module]


@dataclass(frozen=True)
class InferenceRequest:
    model: str
    weights: str  # "DEFAULT", "IMAGENET1K_V1", "ResNet50_Weights.IMAGENET1K_V1" or "none"
    variant: Variant
    test_set: Path
    dataset: str
    logits_path: Path
    timing_path: Path
    limit: int | None = None  # the first N images; None = all
    batch_size: int = 256
    device: str = "auto"
    threads: int = 1
    warmup_batches: int = 2
    gpu_lock_dir: Path = DEFAULT_GPU_LOCK_DIR
    gpu_wait_seconds: float | None = None  # how long to wait for a free GPU; None: forever


@dataclass(frozen=True)
class InferenceOutcome:
    facts: dict[str, Any]
    summary: dict[str, Any]


def _check_request(request: InferenceRequest) -> None:
    if request.device not in DEVICES:
        raise UserError(f"device {request.device!r} is not one of {', '.join(DEVICES)}.")
    for key, value, minimum in (
        ("batch_size", request.batch_size, 1),
        ("threads", request.threads, 1),
        ("warmup_batches", request.warmup_batches, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise UserError(f"{key} must be an integer >= {minimum}, not {value!r}.")
    limit = request.limit
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UserError(f"limit must be a positive integer or null (all images), not {limit!r}.")


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != 1:
        # Allowed only before the first parallel work in this process; later calls keep it.
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(1)


def set_precision(variant: Variant, device: torch.device) -> tuple[torch.dtype, bool]:
    """TF32 off for fp32 (the reference), on for tf32; bf16 runs model and inputs in bfloat16."""
    tf32 = variant.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    if device.type == "cuda":
        # Every batch has one shape, so autotuning once (during warm-up) pays off.
        torch.backends.cudnn.benchmark = True
    if variant.precision == "bf16":
        return torch.bfloat16, True
    return torch.float32, False


def _nvml_process_bytes(gpu_index: int | None) -> int | None:
    """This process's memory on its GPU as the driver sees it; None when NVML cannot say."""
    if gpu_index is None:
        return None

    def query(nvml: Any) -> int | None:
        handle = nvml.nvmlDeviceGetHandleByIndex(gpu_index)
        for process in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
            if process.pid == os.getpid() and process.usedGpuMemory is not None:
                return int(process.usedGpuMemory)
        return None  # e.g. another PID namespace

    return nvml_query(query, None)


def _batch_input(images: torch.Tensor, start: int, batch_size: int) -> torch.Tensor:
    """Rows start..start+batch_size; past the end, the last image is repeated (padding)."""
    n = images.shape[0]
    if start + batch_size <= n:
        return images[start : start + batch_size]
    index = torch.arange(start, start + batch_size, device=images.device).clamp_(max=n - 1)
    return images.index_select(0, index)


class _Clock:
    """Marks and durations: CUDA events on a GPU (read after a sync), perf_counter on a CPU."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"

    def mark(self) -> Any:
        if not self.cuda:
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def seconds(self, start: Any, end: Any) -> float:
        if not self.cuda:
            return end - start
        return start.elapsed_time(end) / 1000.0

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()


@dataclass
class _Batch:
    index: int
    warmup: bool
    start: int
    images: int
    marks: tuple[Any, Any, Any, Any]
    host: torch.Tensor  # float32 logits [batch_size, 1000] in host memory
    wall_start: float
    wall_end: float = 0.0


class _Pass:
    """One pass over the test set at one batch size (repeated after an out-of-memory error)."""

    def __init__(
        self,
        request: InferenceRequest,
        model: torch.nn.Module,
        images: torch.Tensor,
        labels: np.ndarray,
        spec: PreprocessSpec,
        dtype: torch.dtype,
        channels_last: bool,
        batch_size: int,
        device: torch.device,
        progress_file: TextIO | None,
    ) -> None:
        self.request = request
        self.model = model
        self.images = images
        self.labels = labels
        self.spec = spec
        self.dtype = dtype
        self.channels_last = channels_last
        self.batch_size = batch_size
        self.device = device
        self.clock = _Clock(device)
        self.progress_file = progress_file
        self.compile_seconds: float | None = None
        self.timed_start: float | None = None  # wall clock at the first timed batch
        pinned = device.type == "cuda"
        self.host_buffers = [
            torch.empty((batch_size, NUM_IMAGENET_CLASSES), dtype=torch.float32, pin_memory=pinned)
            for _ in range(2 if pinned else 0)
        ]

    def _forward(self, forward: Callable[[torch.Tensor], Any], x: torch.Tensor) -> torch.Tensor:
        y = forward(x)
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != (
            self.batch_size,
            NUM_IMAGENET_CLASSES,
        ):
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise UserError(
                f"{self.request.model} returned {shape}, not {NUM_IMAGENET_CLASSES} ImageNet "
                "logits per image: it is not an ImageNet classifier. Choose another model."
            )
        return y

    def _launch(
        self, forward: Callable, step: int, batch: int, warmup: bool, first: bool
    ) -> _Batch:
        n = self.images.shape[0]
        start = batch * self.batch_size
        wall_start = time.perf_counter()
        m0 = self.clock.mark()
        x = preprocess_batch(
            _batch_input(self.images, start, self.batch_size),
            self.spec,
            self.dtype,
            self.channels_last,
        )
        m1 = self.clock.mark()
        if first and self.request.variant.compile:
            # The first call compiles; its time is recorded apart from every figure.
            self.clock.sync()
            begin = time.perf_counter()
            y = self._forward(forward, x)
            self.clock.sync()
            self.compile_seconds = time.perf_counter() - begin
        else:
            y = self._forward(forward, x)
        m2 = self.clock.mark()
        if self.host_buffers:
            host = self.host_buffers[step % 2]
            # Cast on the device (bf16 -> float32), then an asynchronous copy to pinned memory.
            host.copy_(y.to(torch.float32), non_blocking=True)
        else:
            host = y.to(torch.float32)
        m3 = self.clock.mark()
        images = min(self.batch_size, n - start)
        if not warmup and self.timed_start is None:
            self.timed_start = wall_start
        return _Batch(batch, warmup, start, images, (m0, m1, m2, m3), host, wall_start)

    def _finish(self, batch: _Batch, writer: LogitsWriter) -> None:
        if self.clock.cuda:
            batch.marks[3].synchronize()
        if batch.warmup:
            return
        logits = batch.host.numpy()[: batch.images]
        if not np.isfinite(logits).all():
            request = self.request
            raise UserError(
                f"{request.model} ({request.variant.name}) produced NaN or infinite logits in "
                f"batch {batch.index} (images {batch.start}..{batch.start + batch.images - 1}, "
                f"first image index {batch.start}); nothing was written. Fix: run the fp32 "
                "variant to see whether the precision is at fault, or check the weights file."
            )
        if self.host_buffers:
            logits = logits.copy()  # the pinned buffer is reused two batches later
        stop = batch.start + batch.images
        writer.write_batch(np.arange(batch.start, stop), self.labels[batch.start : stop], logits)

    def run(self, writer: LogitsWriter) -> list[dict[str, Any]]:
        request = self.request
        forward = torch.compile(self.model) if request.variant.compile else self.model
        warmups = request.warmup_batches
        if request.variant.compile and warmups == 0:
            warmups = 1  # the compiling call must never be a timed batch
        n_batches = math.ceil(self.images.shape[0] / self.batch_size)
        schedule = [(0, True)] * warmups + [(b, False) for b in range(n_batches)]
        batches: list[_Batch] = []
        pending: _Batch | None = None
        stream = self.progress_file or sys.stderr
        progress = tqdm(
            total=n_batches,
            desc=f"{request.model} {request.variant.name}",
            unit="batch",
            file=stream,
            mininterval=1.0 if stream.isatty() else 10.0,
        )
        with progress, torch.inference_mode():
            for step, (batch_number, warmup) in enumerate(schedule):
                current = self._launch(forward, step, batch_number, warmup, first=step == 0)
                batches.append(current)
                if pending is not None:
                    self._finish(pending, writer)
                    pending.wall_end = current.wall_start
                    progress.update(1)
                    pending = None
                if warmup or not self.host_buffers:
                    # Warm-ups run alone; on the CPU there is no device queue to overlap with.
                    self._finish(current, writer)
                    current.wall_end = time.perf_counter()
                    progress.update(0 if warmup else 1)
                else:
                    pending = current
            if pending is not None:
                self._finish(pending, writer)
                pending.wall_end = time.perf_counter()
                progress.update(1)
        self.clock.sync()
        return [self._row(b) for b in batches]

    def _row(self, batch: _Batch) -> dict[str, Any]:
        m0, m1, m2, m3 = batch.marks
        return {
            "batch_index": batch.index,
            "warmup": batch.warmup,
            "images": batch.images,
            "padded_images": self.batch_size,
            "input_seconds": self.clock.seconds(m0, m1),
            "forward_seconds": self.clock.seconds(m1, m2),
            "output_seconds": self.clock.seconds(m2, m3),
            "total_seconds": batch.wall_end - batch.wall_start,
        }


def _load_images(request: InferenceRequest) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_test_set(request.test_set)
    if request.limit is not None:
        if request.limit > len(images):
            raise UserError(
                f"limit {request.limit} is more than the {len(images)} images in "
                f"{request.test_set}. Lower limit, or set it to null to use all images."
            )
        images, labels = images[: request.limit], labels[: request.limit]
    return images, labels


def run_inference(
    request: InferenceRequest,
    *,
    model_loader: ModelLoader = load_model,
    progress_file: TextIO | None = None,
) -> InferenceOutcome:
    """Write the logits and timing files of ``request``; return the facts and the summary.

    ``model_loader`` builds the model from (name, weights); tests pass one that wraps the
    model to inject NaN or out-of-memory errors.
    """
    _check_request(request)
    weights = resolve_weights(request.model, request.weights)  # checks the model name too
    spec = spec_for(weights, request.variant.preprocess)
    images, labels = _load_images(request)
    # The GPU is chosen (CUDA_VISIBLE_DEVICES) before anything asks torch about CUDA.
    cpu_only = request.device == "cpu"
    slot = (
        contextlib.nullcontext(None)
        if cpu_only
        else gpu_slot(request.gpu_lock_dir, timeout_seconds=request.gpu_wait_seconds)
    )
    with slot as gpu_index:
        if not cpu_only and torch.cuda.is_available():
            device = torch.device("cuda", 0)
        elif request.device == "cuda":
            raise UserError(
                f"device 'cuda' was asked for, but torch {torch.__version__} sees no CUDA GPU "
                "here. Fix: run on a machine with an NVIDIA GPU and a CUDA build of torch, or "
                "set device to 'auto' or 'cpu'."
            )
        else:
            device, gpu_index = torch.device("cpu"), None
        return _execute(
            request, weights, spec, images, labels, device, gpu_index, model_loader, progress_file
        )


def _execute(
    request: InferenceRequest,
    weights: WeightsEnum | None,
    spec: PreprocessSpec,
    images: np.ndarray,
    labels: np.ndarray,
    device: torch.device,
    gpu_index: int | None,
    model_loader: ModelLoader,
    progress_file: TextIO | None,
) -> InferenceOutcome:
    _set_threads(request.threads)
    dtype, channels_last = set_precision(request.variant, device)
    cuda = device.type == "cuda"
    if cuda:
        # Memory statistics fail ("Invalid device argument") before CUDA is initialised, and
        # nothing has touched CUDA yet in a fresh job process.
        torch.cuda.init()
        torch.cuda.reset_peak_memory_stats(device)
        device_name = torch.cuda.get_device_name(device)
    else:
        device_name = cpu_name()
    stream = progress_file or sys.stderr
    where = f"GPU {gpu_index} ({device_name})" if cuda else f"CPU ({device_name})"
    print(
        f"{request.model} {request.variant.name}: running on {where}, "
        f"{request.threads} CPU threads, batch size {request.batch_size}, {len(images)} images",
        file=stream,
        flush=True,
    )

    begin = time.perf_counter()
    model = model_loader(request.model, weights).eval()
    model = model.to(device=device, dtype=dtype)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    images_on_device = torch.from_numpy(images).to(device)  # once, as uint8
    if cuda:
        torch.cuda.synchronize(device)
    model_load_seconds = time.perf_counter() - begin

    facts: dict[str, Any] = {
        "model": request.model,
        "weights": weights_label(weights),
        "variant": request.variant.name,
        "precision": request.variant.precision,
        "compile": request.variant.compile,
        "preprocess": request.variant.preprocess,
        "preprocess_spec": spec.to_facts(),
        "device": device.type,
        "device_name": device_name,
        "gpu_index": gpu_index,
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "batch_size": None,
        "batch_size_requested": request.batch_size,
        "image_count": len(images),
        "dataset": request.dataset,
        "threads": request.threads,
        "limit": request.limit,
    }

    batch_size = request.batch_size
    oom_retries = 0
    while True:
        facts["batch_size"] = batch_size
        failure: str | None = None
        try:
            one_pass = _Pass(
                request,
                model,
                images_on_device,
                labels,
                spec,
                dtype,
                channels_last,
                batch_size,
                device,
                progress_file,
            )
            with LogitsWriter(request.logits_path, facts) as writer:
                rows = one_pass.run(writer)
            # End to end: from the first timed batch until the logits file is complete on disk.
            end_to_end_seconds = (
                time.perf_counter() - one_pass.timed_start if one_pass.timed_start else None
            )
            compile_seconds = one_pass.compile_seconds
            break
        except torch.cuda.OutOfMemoryError as error:
            failure = str(error).splitlines()[0] if str(error) else "out of memory"
        # Out of the except block, so the traceback no longer holds the failed batch's tensors.
        one_pass = None
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
        if request.variant.compile:
            torch._dynamo.reset()  # compile afresh for the new shape instead of going dynamic
        if batch_size == 1:
            raise UserError(
                f"{request.model} ({request.variant.name}) does not fit in GPU memory even with "
                f"batch size 1 ({failure}). Fix: free the GPU (other processes?), use a GPU with "
                "more memory, or run it with device 'cpu'."
            )
        oom_retries += 1
        log.warning(
            "%s (%s): out of GPU memory at batch size %d (%s); retrying with %d.",
            request.model,
            request.variant.name,
            batch_size,
            failure,
            batch_size // 2,
        )
        print(
            f"Out of GPU memory at batch size {batch_size}; retrying with {batch_size // 2}",
            file=stream,
            flush=True,
        )
        batch_size //= 2

    batches = pd.DataFrame(rows)
    summary = summarise_batches(batches)
    summary.update(
        end_to_end_images_per_second=(
            len(images) / end_to_end_seconds if end_to_end_seconds else None
        ),
        model_load_seconds=model_load_seconds,
        compile_seconds=compile_seconds,
        batch_size=batch_size,
        batch_size_requested=request.batch_size,
        oom_retries=oom_retries,
        torch_peak_allocated_bytes=torch.cuda.max_memory_allocated(device) if cuda else None,
        torch_peak_reserved_bytes=torch.cuda.max_memory_reserved(device) if cuda else None,
        nvml_process_bytes=_nvml_process_bytes(gpu_index) if cuda else None,
        # Linux reports kilobytes.
        host_peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    )
    assert set(summary) == set(SUMMARY_KEYS), set(summary) ^ set(SUMMARY_KEYS)
    write_timing(request.timing_path, batches, facts, summary)
    rate = summary["images_per_second"]
    print(
        f"{request.model} {request.variant.name}: {len(images)} images, "
        + (f"{rate:,.0f} images/s over the timed batches" if rate else "no timed batches"),
        file=stream,
        flush=True,
    )
    return InferenceOutcome(facts, summary)
