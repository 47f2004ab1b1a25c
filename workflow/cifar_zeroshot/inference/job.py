"""Run one model in one variant over the test set: logits and per-batch timing as Parquet.

What makes it fast on a GPU: the uint8 test set goes to the device once and
is preprocessed there; the batch loop (batch_loop.py) keeps the GPU's queue full, and the Parquet
encoding runs in LogitsWriter's own thread. An out-of-memory error halves the batch size and
runs the pass again (oom_retry.py).
"""

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd  # pyarrow imports it at its first pa.array anyway: before the timed batches
import torch
import torchvision

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_IMAGENET_CLASSES
from cifar_zeroshot.data.image_set import load_image_set, read_image_blocks
from cifar_zeroshot.data.test_set import first_images, images_digest
from cifar_zeroshot.inference.batch_loop import PassResult, PassSetup, run_pass
from cifar_zeroshot.inference.clock import process_age_seconds
from cifar_zeroshot.inference.host_memory import (
    available_host_bytes,
    cpu_batch_that_fits,
    traced_bytes_per_image,
)
from cifar_zeroshot.inference.model_source import ModelSource, model_source
from cifar_zeroshot.inference.oom_retry import halve_until_it_fits
from cifar_zeroshot.inference.outputs import output_writers
from cifar_zeroshot.inference.request import InferenceRequest, JobKind, check_request
from cifar_zeroshot.models.complexity import try_count_complexity
from cifar_zeroshot.models.preprocess import output_shape
from cifar_zeroshot.models.torchvision.classifiers import load_model
from cifar_zeroshot.records.logits import write_timing
from cifar_zeroshot.records.run_facts import RunFacts, TimingSummary
from cifar_zeroshot.records.timing import summarise_batches
from cifar_zeroshot.runtimes.device_setup import (
    channels_last_applies,
    job_device,
    set_precision,
    set_threads,
    start_device,
    synchronize,
)
from cifar_zeroshot.runtimes.forward_loading import ForwardLoader, ModelLoader, forward_loader
from cifar_zeroshot.runtimes.gpu_energy import EnergyMeter
from cifar_zeroshot.runtimes.memory_use import peak_memory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InferenceOutcome:
    facts: RunFacts
    summary: TimingSummary


@dataclass(frozen=True)
class _Job:
    """What every step of one job works from, once the device is held."""

    request: InferenceRequest
    kind: JobKind
    source: ModelSource
    device: torch.device
    gpu_index: int | None


@dataclass(frozen=True)
class _Loaded:
    setup: PassSetup  # its batch_size is the requested one
    facts: RunFacts  # batch_size None until a pass fits
    model_load_seconds: float


def _load_images(request: InferenceRequest) -> tuple[np.ndarray, np.ndarray]:
    if request.blocked and read_image_blocks(request.images) is None:
        raise UserError(
            f"{request.images} is not a selection of blocks: it records none (another set's "
            f"image file put in its place, or one written by an older version). Fix: delete "
            f"{request.images} and rerun snakemake to select the blocks again."
        )
    images, labels = load_image_set(request.images, request.image_set)
    # The same selection the metrics rule digests to check this run's test_set_sha256.
    return first_images(images, labels, request.limit, request.images)


def run_inference(
    request: InferenceRequest,
    *,
    model_loader: ModelLoader = load_model,
    progress_file: TextIO | None = None,
    exported_model: Path | None = None,
) -> InferenceOutcome:
    """Write the logits and timing files of ``request``; return the facts and the summary.

    ``model_loader`` builds the model from (name, weights); tests pass one that wraps the
    model to inject NaN or out-of-memory errors. ``progress_file`` receives the progress bar
    (default: stderr). ``exported_model`` is the torch.onnx.export file that the onnxruntime
    runtime runs (onnx_export.py).
    """
    # Interpreter start, imports and Snakemake's script preamble: a cost every job pays.
    startup_seconds = process_age_seconds()
    kind = check_request(request)
    source = model_source(request, kind, model_loader)  # checks the model and weights names
    images, labels = _load_images(request)
    held = job_device(request.device, request.gpu_lock_dir, request.gpu_wait_seconds)
    with held as (device, gpu_index):
        job = _Job(request, kind, source, device, gpu_index)
        loader = forward_loader(
            request.variant,
            exported_model,
            request.threads,
            source.loader,
            label=source.weights_label,
        )
        loaded = _load(job, (images, labels), loader)
        return _execute(job, loaded, progress_file, startup_seconds)


def _load(
    job: _Job, image_set: tuple[np.ndarray, np.ndarray], model_loader: ForwardLoader
) -> _Loaded:
    """Set torch up for the device, put the model and the images on it, state the facts."""
    request, source, device, gpu_index = job.request, job.source, job.device, job.gpu_index
    images, labels = image_set
    set_threads(request.threads)
    dtype, channels_last = set_precision(request.variant, device)
    device_name = start_device(device)
    where = f"GPU {gpu_index} ({device_name})" if device.type == "cuda" else f"CPU ({device_name})"
    log.info(
        "%s %s: running on %s, %d CPU threads, batch size %d, %d images",
        request.model,
        request.variant.name,
        where,
        request.threads,
        request.batch_size,
        len(images),
    )
    begin = time.perf_counter()
    model = model_loader(request.model, source.weights, device, dtype, channels_last)
    if channels_last and isinstance(model, torch.nn.Module) and not channels_last_applies(model):
        # The loader left it in its own format; its inputs follow (forward_loading.py).
        log.info("%s keeps its own memory format: it holds rank-5 tensors", request.model)
        channels_last = False
    images_on_device = torch.from_numpy(images).to(device)  # once, as uint8
    synchronize(device)
    model_load_seconds = time.perf_counter() - begin
    setup = PassSetup(
        model_name=request.model,
        output_name=job.kind.forward_output,
        variant=request.variant,
        model=model,
        images=images_on_device,
        labels=labels,
        # A CLIP tower states its own preprocessing and output width (model_source.py); a
        # classifier's come from its weights, and its output is the logits (+ features).
        spec=source.spec or model.preprocess_spec,
        dtype=dtype,
        channels_last=channels_last,
        device=device,
        batch_size=request.batch_size,
        warmup_batches=request.warmup_batches,
        output_width=getattr(model, "output_width", NUM_IMAGENET_CLASSES),
        energy_meter=EnergyMeter(gpu_index),
    )
    digest = images_digest(images, labels)  # after the timed load: it costs no figure
    memory_format = None
    if isinstance(model, torch.nn.Module):
        memory_format = "channels_last" if channels_last else "contiguous"
    facts = _run_facts(job, setup, device_name, digest, memory_format)
    return _Loaded(setup, facts, model_load_seconds)


def _run_facts(
    job: _Job,
    setup: PassSetup,
    device_name: str,
    test_set_sha256: str,
    memory_format: str | None,
) -> RunFacts:
    """The facts before any pass has run: batch_size is None until one fits."""
    request = job.request
    height, width = setup.images.shape[1:3]
    # Once per job, at the input size the model runs at, on the meta device where it builds there.
    shape = (3, *output_shape(setup.spec, height, width))
    complexity, complexity_error = try_count_complexity(
        job.source.plain_build, shape, request.model
    )
    return RunFacts(
        model=request.model,
        weights=job.source.weights_label,
        variant=request.variant.name,
        precision=request.variant.precision,
        compile=request.variant.compile,
        preprocess=request.variant.preprocess,
        preprocess_spec=setup.spec.to_facts(),
        device=setup.device.type,
        device_name=device_name,
        gpu_index=job.gpu_index,
        torch_version=torch.__version__,
        torchvision_version=torchvision.__version__,
        batch_size=None,
        batch_size_requested=request.batch_size,
        image_count=setup.images.shape[0],
        dataset=request.dataset,
        threads=request.threads,
        limit=request.limit,
        test_set_sha256=test_set_sha256,
        parameters=None if complexity is None else complexity.parameters,
        gflops_per_image=None if complexity is None else complexity.gflops_per_image,
        weights_sha256=None if request.weights_file is None else request.weights_file.sha256,
        complexity_error=complexity_error,
        memory_format=memory_format,
    )


def _cpu_batch_size(source: ModelSource, setup: PassSetup, batch_size: int, what: str) -> int:
    """The batch size lowered (halved) until the host-memory estimate says it fits."""
    if source.meta_build is None:
        return batch_size
    height, width = setup.images.shape[1:3]
    shape = (3, *output_shape(setup.spec, height, width))
    per_image = traced_bytes_per_image(source.meta_build, shape, setup.dtype)
    return cpu_batch_that_fits(batch_size, per_image, available_host_bytes(), what=what)


def _execute(
    job: _Job, loaded: _Loaded, progress_file: TextIO | None, startup_seconds: float
) -> InferenceOutcome:
    """The pass (halving the batch size on out-of-memory), then the timing file."""
    request = job.request

    def attempt(batch_size: int) -> tuple[PassResult, float | None]:
        setup = dataclasses.replace(loaded.setup, batch_size=batch_size)
        facts = loaded.facts.with_batch_size(batch_size)
        with output_writers(request, job.kind, facts, setup.output_width) as writer:
            result = run_pass(setup, writer, progress_file)
        # End to end: from the first timed batch until the output files are complete on disk.
        timed_start = result.timed_start
        return result, time.perf_counter() - timed_start if timed_start else None

    device = loaded.setup.device
    what = f"{request.model} ({request.variant.name})"
    # Never a batch larger than the test set: padding past the data only costs memory.
    batch_size = min(request.batch_size, loaded.facts.image_count)
    if device.type == "cpu":  # no out-of-memory exception to catch: estimate instead
        batch_size = _cpu_batch_size(job.source, loaded.setup, batch_size, what)
    fitted = halve_until_it_fits(
        attempt,
        batch_size,
        what=what,
        cuda=device.type == "cuda",
        compiled=request.variant.compile,
    )
    (result, end_to_end_seconds), batch_size = fitted.result, fitted.batch_size
    facts = loaded.facts.with_batch_size(batch_size)
    image_count = facts.image_count
    batches = pd.DataFrame(result.rows)
    summary = TimingSummary(
        **dataclasses.asdict(summarise_batches(batches)),
        end_to_end_images_per_second=(
            image_count / end_to_end_seconds if end_to_end_seconds else None
        ),
        startup_seconds=startup_seconds,
        model_load_seconds=loaded.model_load_seconds,
        compile_seconds=result.compile_seconds,
        batch_size=batch_size,
        batch_size_requested=request.batch_size,
        oom_retries=fitted.retries,
        **dataclasses.asdict(peak_memory(device, job.gpu_index)),
        gpu_energy_joules=result.gpu_energy_joules,
    )
    write_timing(request.timing_path, batches, facts, summary)
    rate = summary.images_per_second
    log.info(
        "%s %s: %d images, %s",
        request.model,
        request.variant.name,
        image_count,
        f"{rate:,.0f} images/s over the timed batches" if rate else "no timed batches",
    )
    return InferenceOutcome(facts, summary)
