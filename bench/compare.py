"""Throughput evidence: the lab report's pipeline, the bare forward pass, and this project's job.

On one device, in one process, with the same N random CIFAR-shaped uint8 images, for untrained
models (speed depends on neither the weights nor the pixels):
  a(w)  the lab report's pipeline: PIL images, Resize(224) + ToTensor + Normalize(0.5), a torch
        DataLoader with batch 50 and w workers, fp32;
  b     the bare forward pass on one prepared batch, repeated (this project's batch size and
        precision: the ceiling for c);
  c     this project's inference job end to end (run_inference on an .npz): N / the time from
        its first timed batch until the Parquet file is complete on disk (the job's
        end_to_end_images_per_second); c_loop = its rate over the timed batches alone; c_wall =
        N / the whole call's wall time less model loading (warm-up batches and compilation
        included).
Also, to show where c's time goes: the device-side preprocessing alone (prep) and the logits
Parquet writer alone (write, rows/s). Prints a table and the ratios c/a and c/b (with c end to
end); asserts nothing.

    PYTHONPATH=workflow python bench/compare.py --images 256 --models alexnet --workers 0
"""

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from cifar_zeroshot.choices import DEVICES, PRECISIONS
from cifar_zeroshot.device_setup import cpu_name, set_precision
from cifar_zeroshot.inference import run_inference
from cifar_zeroshot.inference_request import InferenceRequest
from cifar_zeroshot.logits_io import LogitsWriter
from cifar_zeroshot.preprocess import preprocess_batch, spec_for
from cifar_zeroshot.run_facts import RunFacts
from cifar_zeroshot.variants import Variant

LAB_REPORT_BATCH = 50
FORWARD_WARMUP = 3
WRITER_ROWS = 10_000  # the CIFAR-10 test set; fewer rows would mostly time the writer's start-up


class _PilImages(Dataset):
    """CIFAR-style dataset: a PIL image per item, transformed in the worker."""

    def __init__(self, images: np.ndarray, transform: Any) -> None:
        self.images = images
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[index])), 0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def lab_report_rate(
    model_name: str, images: np.ndarray, device: torch.device, workers: int
) -> float:
    """a(w): images/s of the lab report's loop over all images (fp32, TF32 off)."""
    set_precision(Variant("fp32"), device)
    torch.backends.cudnn.benchmark = False  # the lab report's default
    model = torchvision.models.get_model(model_name, weights=None).eval().to(device)
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
        _sync(device)
        begin = time.perf_counter()
        for batch, _ in loader:
            model(batch.to(device)).cpu()
        _sync(device)
        seconds = time.perf_counter() - begin
    return len(images) / seconds


def forward_rate(
    model_name: str,
    images: np.ndarray,
    device: torch.device,
    precision: str,
    compile_: bool,
    batch_size: int,
) -> float:
    """b: images/s of model(x) on one prepared batch, as many times as c runs batches."""
    # The same settings as this project's job (c), so b is its ceiling.
    dtype, channels_last = set_precision(Variant(precision), device)
    model = torchvision.models.get_model(model_name, weights=None).eval()
    model = model.to(device=device, dtype=dtype)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    forward = torch.compile(model) if compile_ else model
    rows = np.resize(np.arange(len(images)), batch_size)  # repeat images if N < batch size
    batch = torch.from_numpy(images[rows]).to(device)
    x = preprocess_batch(batch, spec_for(None, "weights"), dtype, channels_last)
    repeats = math.ceil(len(images) / batch_size)
    with torch.inference_mode():
        for _ in range(FORWARD_WARMUP):
            forward(x)
        _sync(device)
        begin = time.perf_counter()
        for _ in range(repeats):
            forward(x)
        _sync(device)
        seconds = time.perf_counter() - begin
    return repeats * batch_size / seconds


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
    _sync(device)
    begin = time.perf_counter()
    for start in starts:
        preprocess_batch(on_device[start : start + batch_size], spec, dtype, channels_last)
    _sync(device)
    return len(starts) * min(batch_size, len(images)) / (time.perf_counter() - begin)


def _writer_facts(count: int, batch_size: int) -> RunFacts:
    """Facts for the writer-only file: it needs some; nothing reads them back."""
    return RunFacts(
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
    )


def writer_rate(count: int, out: Path, batch_size: int) -> float:
    """write: rows/s of LogitsWriter alone, count rows of random float32 logits in batches."""
    logits = np.random.default_rng(1).standard_normal((count, 1000), dtype=np.float32)
    labels = np.zeros(count, dtype=np.uint8)
    facts = _writer_facts(count, batch_size)
    begin = time.perf_counter()
    with LogitsWriter(out / "writer_only.parquet", facts) as writer:
        for start in range(0, count, batch_size):
            stop = min(start + batch_size, count)
            writer.write_batch(np.arange(start, stop), labels[start:stop], logits[start:stop])
    return count / (time.perf_counter() - begin)


def pipeline_rate(
    model_name: str,
    test_set: Path,
    out: Path,
    device: torch.device,
    precision: str,
    compile_: bool,
    batch_size: int,
    threads: int,
) -> dict[str, Any]:
    """c: this project's job; its own figure and the whole call's wall-clock rate."""
    variant = Variant(precision, compile_, "weights")
    request = InferenceRequest(
        model=model_name,
        weights="none",
        variant=variant,
        test_set=test_set,
        dataset="synthetic",
        logits_path=out / "logits" / model_name / f"{variant.name}.parquet",
        timing_path=out / "timing" / model_name / f"{variant.name}.parquet",
        limit=None,
        batch_size=batch_size,
        device=device.type,
        threads=threads,
        warmup_batches=2,
        gpu_lock_dir=out / "gpu_locks",
        gpu_wait_seconds=None,
    )
    begin = time.perf_counter()
    outcome = run_inference(request)
    wall = time.perf_counter() - begin
    summary = outcome.summary
    images = outcome.facts.image_count
    return {
        "c": summary.end_to_end_images_per_second,
        "c_loop": summary.images_per_second,
        "c_wall": images / (wall - summary.model_load_seconds),
        "compile_seconds": summary.compile_seconds,
        "batch_size_used": summary.batch_size,
        "logits_bytes": request.logits_path.stat().st_size,
    }


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--precision", choices=PRECISIONS, default=None)
    parser.add_argument("--compile", action="store_true", help="torch.compile for b and c")
    parser.add_argument("--batch-size", type=int, default=None, help="256 on CUDA, 64 on CPU")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--models", nargs="+", default=["alexnet", "vgg16", "resnet50"])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="*",
        default=[0, 8],
        help="DataLoader workers for a; none: skip a",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    args = parser.parse_args()

    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if cuda:
        # One GPU for every part: run_inference's GPU slot then picks the same one.
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "0")
    device = torch.device("cuda" if cuda else "cpu")
    precision = args.precision or ("bf16" if cuda else "fp32")
    batch_size = args.batch_size or (256 if cuda else 64)
    threads = args.threads or (min(8, os.cpu_count() or 1) if cuda else os.cpu_count() or 1)
    torch.set_num_threads(threads)
    device_name = torch.cuda.get_device_name(device) if cuda else cpu_name()
    setup = {
        "device": device.type,
        "device_name": device_name,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "precision": precision,
        "compile": args.compile,
        "batch_size": batch_size,
        "threads": threads,
        "images": args.images,
    }
    print("setup:", json.dumps(setup))

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    labels = (np.arange(args.images) % 10).astype(np.uint8)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        test_set = Path(tmp) / "test_set.npz"
        np.savez(test_set, images=images, labels=labels)
        prep = preprocess_rate(images, device, precision, batch_size)
        write = writer_rate(WRITER_ROWS, Path(tmp), batch_size)
        print(f"  prep (preprocessing alone): {prep:,.0f} img/s", flush=True)
        print(f"  write (Parquet writer alone): {write:,.0f} rows/s", flush=True)
        setup.update(prep_images_per_second=prep, write_rows_per_second=write)
        for model_name in args.models:
            row: dict[str, Any] = {"model": model_name}
            for workers in args.workers:
                row[f"a({workers})"] = lab_report_rate(model_name, images, device, workers)
                print(f"  {model_name} a({workers}): {row[f'a({workers})']:,.0f} img/s", flush=True)
            row["b"] = forward_rate(model_name, images, device, precision, args.compile, batch_size)
            print(f"  {model_name} b: {row['b']:,.0f} img/s", flush=True)
            row.update(
                pipeline_rate(
                    model_name,
                    test_set,
                    Path(tmp) / "out",
                    device,
                    precision,
                    args.compile,
                    batch_size,
                    threads,
                )
            )
            print(f"  {model_name} c: {_format(row['c'])} img/s", flush=True)
            rows.append(row)

    a_keys = [f"a({w})" for w in args.workers]
    best_a = a_keys[-1] if a_keys else None
    headers = [
        "model",
        *a_keys,
        "b",
        "c_loop",
        "c",
        "c_wall",
        f"c/{best_a}" if best_a else "c/a",
        "c/b",
    ]
    table = [
        [
            row["model"],
            *(_format(row[k]) for k in a_keys),
            _format(row["b"]),
            _format(row["c_loop"]),
            _format(row["c"]),
            _format(row["c_wall"]),
            _ratio(row["c"], row[best_a]) if best_a else "-",
            _ratio(row["c"], row["b"]),
        ]
        for row in rows
    ]
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *table, strict=True)
    ]
    print(
        f"\nimages/s on {device_name} ({precision}{', compiled' if args.compile else ''}, "
        f"batch {batch_size}, {args.images} images; a: fp32, DataLoader batch 50; "
        f"prep {prep:,.0f} img/s, write {write:,.0f} rows/s)"
    )
    for line in [headers, *table]:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths, strict=True)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"setup": setup, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
