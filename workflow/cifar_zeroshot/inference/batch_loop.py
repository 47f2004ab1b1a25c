"""One pass of a model over the test set at one batch size: the pipelined batch loop.

The same loop runs on the CPU and on CUDA. Batch i+1 is launched (preprocessed, run, its
logits queued for the host) before batch i's logits are read back and handed to the writer, so
on CUDA the GPU always has queued work while the host waits. On CUDA the read-back is an
asynchronous copy into one of two pinned host buffers; on the CPU the logits tensor itself is
the host copy, and everything has run by the time launch returns.

Every batch has the same shape (the last one is padded by repeating its last image, and the
padding rows are dropped), so cuDNN autotuning and torch.compile happen once, in the warm-up.

Timing rows: input/forward/output are the times between the clock's marks (CUDA events on a
GPU, wall clock on the CPU); total_seconds is the wall-clock time of one loop iteration (from
this batch's launch to the next one's), so the timed batches' totals add up to the timed loop.
"""

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

import numpy as np
import torch
from tqdm import tqdm

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_IMAGENET_CLASSES
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.inference.clock import BatchClock, Mark
from cifar_zeroshot.models.preprocess import PreprocessSpec, preprocess_batch
from cifar_zeroshot.runtimes.gpu_energy import EnergyMeter


class BatchWriter(Protocol):
    """Where finished batches go (the job's writers: inference/outputs.py)."""

    def write_batch(
        self, image_index: np.ndarray, labels: np.ndarray, values: np.ndarray
    ) -> None: ...


@dataclass(frozen=True)
class PassSetup:
    """Everything one pass needs, fixed for the pass."""

    model_name: str  # for messages
    variant: Variant  # its compile flag and, for messages, its name
    # A torch module on ``device`` in ``dtype`` (channels-last if asked), or any callable with
    # its signature (onnx_forward.OnnxForward for the onnxruntime runtime).
    model: Callable[[torch.Tensor], torch.Tensor]
    images: torch.Tensor  # the uint8 test set [N, 32, 32, 3], already on ``device``
    labels: np.ndarray  # [N]
    spec: PreprocessSpec
    dtype: torch.dtype
    channels_last: bool
    device: torch.device
    batch_size: int
    warmup_batches: int
    # Values per image the forward returns: the logits, or logits and penultimate features side
    # by side (penultimate.WithFeatures), or features or embeddings alone.
    output_width: int = NUM_IMAGENET_CLASSES
    # What those values are, for messages (request.JobKind.forward_output).
    output_name: str = "ImageNet logits"
    # Reads the GPU's energy over the timed batches (from the first one's launch, when the
    # warm-ups have finished and the GPU is idle, until the last one's logits are back).
    energy_meter: EnergyMeter = field(default_factory=lambda: EnergyMeter(gpu_index=None))


@dataclass(frozen=True)
class PassResult:
    rows: list[dict[str, Any]]  # one per batch, warm-ups included: logits.TIMING_COLUMNS
    compile_seconds: float | None  # the first (compiling) call; None without torch.compile
    timed_start: float | None  # perf_counter at the first timed batch; None without one
    gpu_energy_joules: float | None  # over the timed batches; None where NVML cannot say


@dataclass
class _Batch:
    index: int
    warmup: bool
    start: int
    images: int  # real images (padding excluded)
    marks: tuple[Mark, Mark, Mark, Mark]  # before input, forward, read-back; after read-back
    host: torch.Tensor  # float32 outputs [batch_size, width] in host memory (once marks[3])
    wall_start: float
    wall_end: float = 0.0


def batch_input(images: torch.Tensor, start: int, batch_size: int) -> torch.Tensor:
    """Rows start..start+batch_size; past the end, the last image is repeated (padding)."""
    n = images.shape[0]
    if start + batch_size <= n:
        return images[start : start + batch_size]
    index = torch.arange(start, start + batch_size, device=images.device).clamp_(max=n - 1)
    return images.index_select(0, index)


class _HostOutputs:
    """Brings a batch's outputs to the host without waiting for them (on CUDA)."""

    def __init__(self, device: torch.device, batch_size: int, width: int) -> None:
        # Two buffers: batch i+1's copy is queued while batch i's buffer is still being read.
        self.buffers = [
            torch.empty((batch_size, width), dtype=torch.float32, pin_memory=True)
            for _ in range(2 if device.type == "cuda" else 0)
        ]

    def queue(self, step: int, outputs: torch.Tensor) -> torch.Tensor:
        if not self.buffers:
            return outputs.to(torch.float32)  # on the CPU: the tensor itself when float32
        host = self.buffers[step % 2]
        # Cast on the device (bf16 -> float32), then an asynchronous copy to pinned memory.
        host.copy_(outputs.to(torch.float32), non_blocking=True)
        return host

    def take(self, host: torch.Tensor, rows: int) -> np.ndarray:
        """The first ``rows`` outputs, as an array the caller may keep."""
        outputs = host.numpy()[:rows]
        # A pinned buffer is reused two batches later; a CPU tensor is this batch's own.
        return outputs.copy() if self.buffers else outputs


class _Loop:
    """The state of one pass: clock, read-back buffers, the compiled or eager forward."""

    def __init__(self, setup: PassSetup, writer: BatchWriter) -> None:
        self.setup = setup
        self.writer = writer
        self.clock = BatchClock(setup.device)
        self.host_outputs = _HostOutputs(setup.device, setup.batch_size, setup.output_width)
        compiled = setup.variant.compile
        self.forward: Callable[[torch.Tensor], Any] = (
            torch.compile(setup.model) if compiled else setup.model
        )
        self.compile_seconds: float | None = None
        self.timed_start: float | None = None

    def schedule(self) -> list[tuple[int, bool]]:
        """(batch number, warm-up?) per step: warm-ups run batch 0, then every batch once."""
        warmups = self.setup.warmup_batches
        if self.setup.variant.compile and warmups == 0:
            warmups = 1  # the compiling call must never be a timed batch
        n_batches = math.ceil(self.setup.images.shape[0] / self.setup.batch_size)
        return [(0, True)] * warmups + [(b, False) for b in range(n_batches)]

    def _checked_forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.forward(x)
        width = self.setup.output_width
        expected = (self.setup.batch_size, width)
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != expected:
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            what = self.setup.output_name
            # A classifier's head is the one part of the width that the model alone decides.
            verdict = (
                "it is not an ImageNet classifier"
                if what == "ImageNet logits"
                else "the model does not give the outputs this job writes"
            )
            raise UserError(
                f"{self.setup.model_name} returned {shape}, not {width} {what} per image: "
                f"{verdict}. Choose another model."
            )
        return y

    def launch(self, step: int, batch: int, warmup: bool) -> _Batch:
        """Queue one batch: preprocessing, forward, and the copy of its outputs to the host."""
        setup, clock = self.setup, self.clock
        start = batch * setup.batch_size
        if not warmup and self.timed_start is None:
            setup.energy_meter.start()  # the warm-ups have finished: the GPU is idle
        wall_start = time.perf_counter()
        m0 = clock.mark()
        x = preprocess_batch(
            batch_input(setup.images, start, setup.batch_size),
            setup.spec,
            setup.dtype,
            setup.channels_last,
        )
        m1 = clock.mark()
        if step == 0 and setup.variant.compile:
            # The first call compiles; its time is recorded apart from every figure.
            clock.sync()
            begin = time.perf_counter()
            y = self._checked_forward(x)
            clock.sync()
            self.compile_seconds = time.perf_counter() - begin
        else:
            y = self._checked_forward(x)
        m2 = clock.mark()
        host = self.host_outputs.queue(step, y)
        m3 = clock.mark()
        images = min(setup.batch_size, setup.images.shape[0] - start)
        if not warmup and self.timed_start is None:
            self.timed_start = wall_start
        return _Batch(batch, warmup, start, images, (m0, m1, m2, m3), host, wall_start)

    def finish(self, batch: _Batch) -> None:
        """Wait for a batch's outputs, check them and hand them to the writer (not warm-ups)."""
        self.clock.wait(batch.marks[3])
        if batch.warmup:
            return
        outputs = self.host_outputs.take(batch.host, batch.images)
        if not np.isfinite(outputs).all():
            setup = self.setup
            raise UserError(
                f"{setup.model_name} ({setup.variant.name}) produced NaN or infinite "
                f"{setup.output_name} in batch {batch.index} "
                f"(images {batch.start}..{batch.start + batch.images - 1}, "
                f"first image index {batch.start}); nothing was written. Fix: run the fp32 "
                "variant to see whether the precision is at fault, or check the weights file."
            )
        stop = batch.start + batch.images
        labels = self.setup.labels[batch.start : stop]
        self.writer.write_batch(np.arange(batch.start, stop), labels, outputs)

    def row(self, batch: _Batch) -> dict[str, Any]:
        m0, m1, m2, m3 = batch.marks
        return {
            "batch_index": batch.index,
            "warmup": batch.warmup,
            "images": batch.images,
            "padded_images": self.setup.batch_size,
            "input_seconds": self.clock.seconds(m0, m1),
            "forward_seconds": self.clock.seconds(m1, m2),
            "output_seconds": self.clock.seconds(m2, m3),
            "total_seconds": batch.wall_end - batch.wall_start,
        }


def _progress_bar(setup: PassSetup, total: int, stream: TextIO) -> tqdm:
    return tqdm(
        total=total,
        desc=f"{setup.model_name} {setup.variant.name}",
        unit="batch",
        file=stream,
        mininterval=1.0 if stream.isatty() else 10.0,
    )


def run_pass(
    setup: PassSetup, writer: BatchWriter, progress_file: TextIO | None = None
) -> PassResult:
    """Run every batch once (after the warm-ups), writing the logits in image order."""
    loop = _Loop(setup, writer)
    schedule = loop.schedule()
    batches: list[_Batch] = []
    pending: _Batch | None = None  # launched, its logits not yet read back
    timed = sum(1 for _, warmup in schedule if not warmup)
    progress = _progress_bar(setup, timed, progress_file or sys.stderr)
    with progress, torch.inference_mode():
        for step, (number, warmup) in enumerate(schedule):
            current = loop.launch(step, number, warmup)
            batches.append(current)
            if pending is not None:
                loop.finish(pending)
                pending.wall_end = current.wall_start
                progress.update(1)
                pending = None
            if warmup:
                # Warm-ups run alone, so each one's time is its own (autotuning, compiling).
                loop.finish(current)
                current.wall_end = time.perf_counter()
            else:
                pending = current
        if pending is not None:
            loop.finish(pending)
            pending.wall_end = time.perf_counter()
            progress.update(1)
    loop.clock.sync()  # every CUDA event has been reached: the rows can read them
    joules = setup.energy_meter.stop()
    return PassResult(
        [loop.row(b) for b in batches], loop.compile_seconds, loop.timed_start, joules
    )
