"""Throughput evidence: the lab report's pipeline, the bare forward pass, and this project's job.

On one device, in one process, with the same N random CIFAR-shaped uint8 images, for untrained
models (speed depends on neither the weights nor the pixels):
  a(w)  the lab report's pipeline: PIL images, Resize(224) + ToTensor + Normalize(0.5), a torch
        DataLoader with batch 50 and w workers, fp32;
  b     the bare forward pass on one prepared batch, repeated (this project's batch size and
        precision), once per forward kind: torch NCHW (nchw), torch channels_last, torch.compile
        (compile, in the layout the project uses on the device) and ONNX Runtime (onnxruntime,
        on the model exported as the workflow exports it). The best of them is the ceiling
        for c;
  c     this project's inference job end to end (run_inference on an .npz), once per variant
        (--variants): N / the time from its first timed batch until the Parquet file is complete
        on disk (the job's end_to_end_images_per_second); c_loop = its rate over the timed
        batches alone; c_wall = N / the whole call's wall time less model loading (warm-up
        batches and compilation included).
Also, to show where c's time goes: the device-side preprocessing alone (prep) and the logits
Parquet writer alone (write, rows/s). With --rounds N the b kinds and c variants take turns N
times (every kind, then every variant, per round); each figure is the median over the rounds and
c/b is the median of each round's fastest c over its best b. Prints a table per model and kind,
then per model the best b, the fastest variant's c and c/b (the rows and tables: compare_rows.py);
asserts nothing.

    PYTHONPATH=workflow python bench/compare.py --images 256 --models alexnet --workers 0
    PYTHONPATH=workflow python bench/compare.py --device cpu --models alexnet resnet50 vgg16 \
        --images 512 --model-images vgg16=128 --workers   # every CPU kind and variant
"""

import argparse
import dataclasses
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from compare_rows import ForwardKind, JobRun, ModelRow, model_row, print_report, rounds_text
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from cifar_zeroshot.core.choices import DEVICES, PRECISIONS
from cifar_zeroshot.core.runtime_table import ONNXRUNTIME
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.request import InferenceRequest
from cifar_zeroshot.models.preprocess import preprocess_batch, spec_for
from cifar_zeroshot.models.torchvision.classifiers import load_model
from cifar_zeroshot.records.logits import LogitsWriter
from cifar_zeroshot.records.run_facts import RunFacts
from cifar_zeroshot.runtimes.device_setup import (
    cpu_name,
    set_precision,
    set_threads,
    start_device,
    synchronize,
)
from cifar_zeroshot.runtimes.forward_loading import Forward, forward_loader
from cifar_zeroshot.runtimes.onnx_export import export_onnx

LAB_REPORT_BATCH = 50
FORWARD_WARMUP = 3
WRITER_ROWS = 10_000  # the CIFAR-10 test set; fewer rows would mostly time the writer's start-up


@dataclass(frozen=True)
class Bench:
    """What every part of one run shares."""

    device: torch.device
    precision: str
    batch_size: int
    threads: int
    out: Path  # scratch folder


class _PilImages(Dataset):
    """CIFAR-style dataset: a PIL image per item, transformed in the worker."""

    def __init__(self, images: np.ndarray, transform: Any) -> None:
        self.images = images
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[index])), 0


def lab_report_rate(
    model_name: str, images: np.ndarray, device: torch.device, workers: int
) -> float:
    """a(w): images/s of the lab report's loop over all images (fp32, TF32 off)."""
    set_precision(Variant("fp32"), device)
    torch.backends.cudnn.benchmark = False  # the lab report's default
    model = load_model(model_name, None).to(device)
    transform = transforms.Compose(
        [
            transforms.Resize(224),
            transforms.ToTensor(),
            transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        ]
    )
    loader = DataLoader(
        _PilImages(images, transform), batch_size=LAB_REPORT_BATCH, num_workers=workers
    )
    with torch.no_grad():
        model(torch.zeros(LAB_REPORT_BATCH, 3, 224, 224, device=device))  # CUDA start-up
        synchronize(device)
        begin = time.perf_counter()
        for batch, _ in loader:
            model(batch.to(device)).cpu()
        synchronize(device)
        seconds = time.perf_counter() - begin
    return len(images) / seconds


def _forward(
    kind: ForwardKind, model_name: str, bench: Bench, exported: Path | None
) -> tuple[Forward, torch.dtype, bool]:
    """The forward that b times, loaded as the job loads it; its input's dtype and layout."""
    if kind is ForwardKind.ONNXRUNTIME:  # the exported graph is fp32 whatever the precision
        precision = bench.precision if ONNXRUNTIME.runs(bench.precision) else "fp32"
        variant = Variant(precision, runtime=ONNXRUNTIME.name)
    else:
        variant = Variant(bench.precision, compile=kind is ForwardKind.COMPILE)
    dtype, project_layout = set_precision(variant, bench.device)
    forced = {ForwardKind.NCHW: False, ForwardKind.CHANNELS_LAST: True}
    channels_last = forced.get(kind, project_layout)
    load = forward_loader(variant, exported, bench.threads, load_model)
    forward = load(model_name, None, bench.device, dtype, channels_last)
    return (torch.compile(forward) if variant.compile else forward), dtype, channels_last


class Forwards:
    """b: images/s of each forward kind on one prepared batch, as many times as c runs batches.

    Every kind's model is built and warmed up once; each call of ``round`` times them all once,
    one after another, so that a change in the machine's load (a shared VM) falls on all alike.
    """

    def __init__(
        self,
        kinds: list[ForwardKind],
        model_name: str,
        images: np.ndarray,
        bench: Bench,
        exported: Path | None,
    ) -> None:
        self.bench = bench
        self.repeats = math.ceil(len(images) / bench.batch_size)
        rows = np.resize(np.arange(len(images)), bench.batch_size)  # repeat images if N < batch
        batch = torch.from_numpy(images[rows]).to(bench.device)
        self.prepared: dict[ForwardKind, tuple[Forward, torch.Tensor]] = {}
        for kind in kinds:
            forward, dtype, channels_last = _forward(kind, model_name, bench, exported)
            x = preprocess_batch(batch, spec_for(None, "weights"), dtype, channels_last)
            with torch.inference_mode():
                for _ in range(FORWARD_WARMUP):
                    forward(x)
            self.prepared[kind] = forward, x

    def round(self) -> dict[ForwardKind, float]:
        rates = {}
        with torch.inference_mode():
            for kind, (forward, x) in self.prepared.items():
                synchronize(self.bench.device)
                begin = time.perf_counter()
                for _ in range(self.repeats):
                    forward(x)
                synchronize(self.bench.device)
                seconds = time.perf_counter() - begin
                rates[kind] = self.repeats * self.bench.batch_size / seconds
        return rates


def preprocess_rate(
    images: np.ndarray, device: torch.device, precision: str, batch_size: int
) -> float:
    """prep: images/s of preprocess_batch alone (uint8 on the device -> the model's input)."""
    dtype, channels_last = set_precision(Variant(precision), device)
    on_device = torch.from_numpy(images).to(device)
    spec = spec_for(None, "weights")
    starts = range(0, len(images) - batch_size + 1, batch_size) or [0]
    for _ in range(FORWARD_WARMUP):
        preprocess_batch(on_device[:batch_size], spec, dtype, channels_last)
    synchronize(device)
    begin = time.perf_counter()
    for start in starts:
        preprocess_batch(on_device[start : start + batch_size], spec, dtype, channels_last)
    synchronize(device)
    return len(starts) * min(batch_size, len(images)) / (time.perf_counter() - begin)


def writer_rate(count: int, out: Path, batch_size: int) -> float:
    """write: rows/s of LogitsWriter alone, count rows of random float32 logits in batches."""
    logits = np.random.default_rng(1).standard_normal((count, 1000), dtype=np.float32)
    labels = np.zeros(count, dtype=np.uint8)
    # The writer needs facts; nothing reads these back. (The package builds a run's facts only
    # inside the job, inference.job._run_facts.)
    facts = RunFacts(
        model="bench",
        weights="none",
        variant="fp32",
        precision="fp32",
        compile=False,
        preprocess="weights",
        preprocess_spec=spec_for(None, "weights").to_facts(),
        device="cpu",
        device_name=cpu_name(),
        gpu_index=None,
        torch_version=torch.__version__,
        torchvision_version=torchvision.__version__,
        batch_size=batch_size,
        batch_size_requested=batch_size,
        image_count=count,
        dataset="synthetic",
        threads=torch.get_num_threads(),
        limit=None,
        test_set_sha256="none: random logits, no test set",
        parameters=None,
        gflops_per_image=None,
    )
    begin = time.perf_counter()
    with LogitsWriter(out / "writer_only.parquet", facts) as writer:
        for start in range(0, count, batch_size):
            stop = min(start + batch_size, count)
            writer.write_batch(np.arange(start, stop), labels[start:stop], logits[start:stop])
    return count / (time.perf_counter() - begin)


def job_run(
    model_name: str, variant: Variant, test_set: Path, bench: Bench, exported: Path | None
) -> JobRun:
    """c: this project's job in one variant, as the workflow runs it, with untrained weights."""
    out = bench.out / "runs"
    request = InferenceRequest(
        model=model_name,
        weights="none",
        variant=variant,
        images=test_set,
        dataset="synthetic",
        logits_path=out / "logits" / model_name / f"{variant.name}.parquet",
        timing_path=out / "timing" / model_name / f"{variant.name}.parquet",
        limit=None,
        batch_size=bench.batch_size,
        device=bench.device.type,
        threads=bench.threads,
        warmup_batches=2,
        gpu_lock_dir=out / "gpu_locks",
        gpu_wait_seconds=None,
    )
    begin = time.perf_counter()
    outcome = run_inference(request, exported_model=exported)
    wall = time.perf_counter() - begin
    summary = outcome.summary
    return JobRun(
        summary=summary,
        wall_images_per_second=outcome.facts.image_count / (wall - summary.model_load_seconds),
        logits_bytes=request.logits_path.stat().st_size,
    )


def measure_model(
    model_name: str, images: np.ndarray, bench: Bench, args: argparse.Namespace
) -> ModelRow:
    """Every part for one model: a(w), b per forward kind, c per variant, the best of b and c."""
    labels = (np.arange(len(images)) % 10).astype(np.uint8)
    test_set = bench.out / f"{model_name}_test_set.npz"
    np.savez(test_set, images=images, labels=labels)
    exported, export_seconds = None, None
    reads_export = any(variant.runtime_spec.reads_export for variant in args.variants)
    if ForwardKind.ONNXRUNTIME in args.forwards or reads_export:
        exported = bench.out / "onnx" / f"{model_name}.onnx"
        begin = time.perf_counter()
        export_onnx(model_name, "none", exported)
        export_seconds = time.perf_counter() - begin
    lab_report = {}
    for workers in args.workers:
        lab_report[workers] = lab_report_rate(model_name, images, bench.device, workers)
        print(f"  {model_name} a({workers}): {lab_report[workers]:,.1f} img/s", flush=True)
    forwards = Forwards(args.forwards, model_name, images, bench, exported)
    b_rounds: dict[ForwardKind, list[float]] = {kind: [] for kind in args.forwards}
    c_rounds: dict[str, list[JobRun]] = {variant.name: [] for variant in args.variants}
    # Each round times every b kind, then runs every c variant (see model_row).
    for _ in range(args.rounds):
        for kind, rate in forwards.round().items():
            b_rounds[kind].append(rate)
        for variant in args.variants:
            c_rounds[variant.name].append(job_run(model_name, variant, test_set, bench, exported))
    del forwards  # the b models: before the next model's are built
    row = model_row(model_name, len(images), export_seconds, lab_report, b_rounds, c_rounds)
    for b in row.forwards:
        print(f"  {model_name} b {b.kind}: {rounds_text(list(b.rounds))} img/s", flush=True)
    for c in row.variants:
        rates = rounds_text([run.end_to_end for run in c.rounds])
        print(f"  {model_name} c {c.variant}: {rates} img/s", flush=True)
    return row


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--precision", choices=PRECISIONS, default=None)
    parser.add_argument(
        "--compile", action="store_true", help="add the torch.compile kind to b and c"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="256 on CUDA, 64 on CPU")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--models", nargs="+", default=["alexnet", "vgg16", "resnet50"])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument(
        "--model-images",
        nargs="*",
        default=[],
        metavar="MODEL=N",
        help="fewer images for a slow model, e.g. vgg16=128 (the first N of the same images)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="*",
        default=[0, 8],
        help="DataLoader workers for a; none: skip a",
    )
    parser.add_argument(
        "--forwards",
        nargs="*",
        choices=[kind.value for kind in ForwardKind],
        default=None,
        help="forward kinds for b (CPU default: all; CUDA: the project's layout, and compile)",
    )
    parser.add_argument(
        "--variants",
        nargs="*",
        default=None,
        help="variant names for c (CPU default: fp32, fp32-onnxruntime and, with --compile, "
        "fp32-compile; CUDA: the precision, compiled with --compile)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="b kinds and c variants take turns this many times; the median is reported",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    return parser.parse_args()


def _defaults(args: argparse.Namespace, cuda: bool) -> None:
    """Fill the device-dependent defaults of the kinds and variants."""
    precision = args.precision or ("bf16" if cuda else "fp32")
    args.precision = precision
    if args.forwards is None:
        if cuda:
            args.forwards = ["channels_last" if precision == "bf16" else "nchw"]
        else:
            args.forwards = ["nchw", "channels_last", "onnxruntime"]
        args.forwards += ["compile"] if args.compile else []
    if args.variants is None:
        names = [precision] + ([f"{precision}-compile"] if args.compile else [])
        names += [] if cuda else [f"{precision}-onnxruntime"]
        args.variants = names
    # Each once: a round pairs one figure of each (compare_rows.model_row).
    args.forwards = [ForwardKind(kind) for kind in dict.fromkeys(args.forwards)]
    args.variants = [Variant.parse(name) for name in dict.fromkeys(args.variants)]
    args.model_images = {
        name: int(count) for name, _, count in (item.partition("=") for item in args.model_images)
    }


def main() -> None:
    args = _parse_args()
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if cuda:
        # One GPU for every part: run_inference's GPU slot then picks the same one.
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "0")
    _defaults(args, cuda)
    device = torch.device("cuda" if cuda else "cpu")
    batch_size = args.batch_size or (256 if cuda else 64)
    threads = args.threads or (min(8, os.cpu_count() or 1) if cuda else os.cpu_count() or 1)
    set_threads(threads)
    device_name = start_device(device)
    setup = {
        "device": device.type,
        "device_name": device_name,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "precision": args.precision,
        "compile": args.compile,
        "batch_size": batch_size,
        "threads": threads,
        "images": args.images,
        "model_images": args.model_images,
        "forwards": args.forwards,
        "variants": [v.name for v in args.variants],
        "rounds": args.rounds,
    }
    print("setup:", json.dumps(setup))

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    rows: list[ModelRow] = []
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        bench = Bench(device, args.precision, batch_size, threads, Path(tmp))
        prep = preprocess_rate(images, device, args.precision, batch_size)
        write = writer_rate(WRITER_ROWS, Path(tmp), batch_size)
        print(f"  prep (preprocessing alone): {prep:,.0f} img/s", flush=True)
        print(f"  write (Parquet writer alone): {write:,.0f} rows/s", flush=True)
        setup.update(prep_images_per_second=prep, write_rows_per_second=write)
        for model_name in args.models:
            count = args.model_images.get(model_name, args.images)
            rows.append(measure_model(model_name, images[:count], bench, args))

    print_report(
        rows,
        args.workers,
        f"images/s on {device_name} ({args.precision}, batch {batch_size}, {threads} threads; "
        f"a: fp32, DataLoader batch 50; prep {prep:,.0f} img/s, write {write:,.0f} rows/s)",
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"setup": setup, "rows": [dataclasses.asdict(row) for row in rows]}
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
