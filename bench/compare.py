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
then per model the best b, the fastest variant's c and c/b; asserts nothing.

    PYTHONPATH=workflow python bench/compare.py --images 256 --models alexnet --workers 0
    PYTHONPATH=workflow python bench/compare.py --device cpu --models alexnet resnet50 vgg16 \
        --images 512 --model-images vgg16=128 --workers   # every CPU kind and variant
"""

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from cifar_zeroshot.core.choices import DEVICES, PRECISIONS
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.request import InferenceRequest
from cifar_zeroshot.models.preprocess import preprocess_batch, spec_for
from cifar_zeroshot.records.logits import LogitsWriter
from cifar_zeroshot.records.run_facts import RunFacts
from cifar_zeroshot.runtimes.device_setup import cpu_name, set_precision
from cifar_zeroshot.runtimes.onnx_export import export_onnx
from cifar_zeroshot.runtimes.onnx_forward import onnx_forward

FORWARD_KINDS = ("nchw", "channels_last", "compile", "onnxruntime")
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


@dataclass(frozen=True)
class Bench:
    """What every part of one run shares."""

    device: torch.device
    precision: str
    batch_size: int
    threads: int
    out: Path  # scratch folder


def _forward(
    kind: str, model_name: str, bench: Bench, exported: Path | None
) -> tuple[Any, torch.dtype, bool]:
    """The callable that b times, its input's dtype, and whether that is channels_last."""
    if kind == "onnxruntime":
        assert exported is not None
        what = (model_name, "none")
        forward = onnx_forward(exported, what, bench.device, bench.precision, bench.threads)
        return forward, torch.float32, False  # the exported graph is fp32
    # nchw / channels_last force the layout; compile takes the project's layout for the device.
    dtype, project_layout = set_precision(Variant(bench.precision), bench.device)
    channels_last = kind == "channels_last" or (kind == "compile" and project_layout)
    model = torchvision.models.get_model(model_name, weights=None).eval()
    model = model.to(device=bench.device, dtype=dtype)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return (torch.compile(model) if kind == "compile" else model), dtype, channels_last


class Forwards:
    """b: images/s of each forward kind on one prepared batch, as many times as c runs batches.

    Every kind's model is built and warmed up once; each call of ``round`` times them all once,
    one after another, so that a change in the machine's load (a shared VM) falls on all alike.
    """

    def __init__(
        self,
        kinds: list[str],
        model_name: str,
        images: np.ndarray,
        bench: Bench,
        exported: Path | None,
    ) -> None:
        self.bench = bench
        self.repeats = math.ceil(len(images) / bench.batch_size)
        rows = np.resize(np.arange(len(images)), bench.batch_size)  # repeat images if N < batch
        batch = torch.from_numpy(images[rows]).to(bench.device)
        self.prepared = {}
        for kind in kinds:
            forward, dtype, channels_last = _forward(kind, model_name, bench, exported)
            x = preprocess_batch(batch, spec_for(None, "weights"), dtype, channels_last)
            with torch.inference_mode():
                for _ in range(FORWARD_WARMUP):
                    forward(x)
            self.prepared[kind] = forward, x

    def round(self) -> dict[str, float]:
        rates = {}
        with torch.inference_mode():
            for kind, (forward, x) in self.prepared.items():
                _sync(self.bench.device)
                begin = time.perf_counter()
                for _ in range(self.repeats):
                    forward(x)
                _sync(self.bench.device)
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
        test_set_sha256="none: random logits, no test set",
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
    model_name: str, variant: Variant, test_set: Path, bench: Bench, exported: Path | None
) -> dict[str, Any]:
    """c: this project's job in one variant; its own figure and the whole call's wall rate."""
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
    images = outcome.facts.image_count
    return {
        "c": summary.end_to_end_images_per_second,
        "c_loop": summary.images_per_second,
        "c_wall": images / (wall - summary.model_load_seconds),
        "compile_seconds": summary.compile_seconds,
        "model_load_seconds": summary.model_load_seconds,
        "batch_size_used": summary.batch_size,
        "logits_bytes": request.logits_path.stat().st_size,
    }


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _rates(rates: list[float | None]) -> str:
    """Rounds as 'median (low-high)', or the one figure."""
    known = [rate for rate in rates if rate is not None]
    if len(known) < 2:
        return _format(known[0] if known else None)
    return f"{_format(statistics.median_low(known))} ({_spread(known)})"


def _spread(rates: list[float | None]) -> str:
    """'low-high' over the rounds; '-' for a single round."""
    known = [rate for rate in rates if rate is not None]
    return f"{_format(min(known))}-{_format(max(known))}" if len(known) > 1 else "-"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}x"


def _print_table(headers: list[str], table: list[list[str]]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *table, strict=True)
    ]
    for line in [headers, *table]:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths, strict=True)))


def measure_model(
    model_name: str, images: np.ndarray, bench: Bench, args: argparse.Namespace
) -> dict[str, Any]:
    """Every part for one model: a(w), b per forward kind, c per variant, the best of b and c."""
    labels = (np.arange(len(images)) % 10).astype(np.uint8)
    test_set = bench.out / f"{model_name}_test_set.npz"
    np.savez(test_set, images=images, labels=labels)
    row: dict[str, Any] = {"model": model_name, "images": len(images), "a": {}, "b": {}, "c": {}}
    row.update(b_rounds={}, c_rounds={})
    exported = None
    if "onnxruntime" in args.forwards or any(v.runtime == "onnxruntime" for v in args.variants):
        exported = bench.out / "onnx" / f"{model_name}.onnx"
        begin = time.perf_counter()
        export_onnx(model_name, "none", exported)
        row["export_seconds"] = time.perf_counter() - begin
    for workers in args.workers:
        row["a"][workers] = lab_report_rate(model_name, images, bench.device, workers)
        print(f"  {model_name} a({workers}): {row['a'][workers]:,.1f} img/s", flush=True)
    forwards = Forwards(args.forwards, model_name, images, bench, exported)
    ratios = []
    # Each round times every b kind, then runs every c variant: c / b is taken per round, from
    # figures measured minutes apart at most, and its median over the rounds is reported.
    for _ in range(args.rounds):
        b_round = forwards.round()
        for kind, rate in b_round.items():
            row["b_rounds"].setdefault(kind, []).append(rate)
        c_round = {}
        for variant in args.variants:
            c_round[variant.name] = pipeline_rate(model_name, variant, test_set, bench, exported)
            row["c_rounds"].setdefault(variant.name, []).append(c_round[variant.name])
        best_c = max((run["c"] or 0 for run in c_round.values()), default=0)
        ratios.append(best_c / max(b_round.values()) if b_round and best_c else None)
    del forwards  # the b models: before the next model's are built
    for kind, rates in row["b_rounds"].items():
        row["b"][kind] = statistics.median_low(rates)
        print(f"  {model_name} b {kind}: {_rates(rates)} img/s", flush=True)
    for name, runs in row["c_rounds"].items():
        # The run with the median end-to-end rate stands for the variant, all its figures.
        row["c"][name] = sorted(runs, key=lambda run: run["c"] or 0)[(len(runs) - 1) // 2]
        print(f"  {model_name} c {name}: {_rates([r['c'] for r in runs])} img/s", flush=True)
    row["best_b"] = max(row["b"], key=row["b"].get, default=None)
    row["best_c"] = max(row["c"], key=lambda name: row["c"][name]["c"] or 0, default=None)
    row["c_over_best_b_rounds"] = ratios
    known = [ratio for ratio in ratios if ratio is not None]
    row["c_over_best_b"] = statistics.median_low(known) if known else None
    return row


def _print_report(rows: list[dict[str, Any]], workers: list[int], title: str) -> None:
    a_keys = [f"a({w})" for w in workers]
    headers = ["model", "images", "kind", *a_keys, "b", "c_loop", "c", "c_wall", "b or c range"]
    table = []
    for row in rows:
        a_cells = [_format(row["a"][w]) for w in workers]
        for kind, rate in row["b"].items():
            spread = _spread(row["b_rounds"][kind])
            line = [row["model"], str(row["images"]), f"b {kind}", *a_cells, _format(rate)]
            table.append([*line, "", "", "", spread])
            a_cells = [""] * len(workers)
        for name, c in row["c"].items():
            cells = [_format(c["c_loop"]), _format(c["c"]), _format(c["c_wall"])]
            line = [row["model"], str(row["images"]), f"c {name}", *a_cells, ""]
            table.append([*line, *cells, _spread([run["c"] for run in row["c_rounds"][name]])])
            a_cells = [""] * len(workers)
    print(f"\n{title}")
    _print_table(headers, table)
    print(
        "\nbest bare forward (b), fastest variant end to end (c), and c / b (the median over the "
        "rounds of each round's fastest c over its best b):"
    )
    best_a = a_keys[-1] if a_keys else None
    headers = ["model", "best b", "b", "fastest variant", "c", "c/b"]
    headers += [f"c/{best_a}"] if best_a else []
    table = []
    for row in rows:
        best_c = row["c"][row["best_c"]]["c"] if row["best_c"] else None
        line = [
            row["model"],
            row["best_b"] or "-",
            _format(row["b"].get(row["best_b"])),
            row["best_c"] or "-",
            _format(best_c),
            f"{row['c_over_best_b']:.2f}" if row["c_over_best_b"] else "-",
        ]
        if best_a:
            line.append(_ratio(best_c, row["a"][workers[-1]]))
        table.append(line)
    _print_table(headers, table)


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
        choices=FORWARD_KINDS,
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
    args.variants = [Variant.parse(name) for name in args.variants]
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
    torch.set_num_threads(threads)
    device_name = torch.cuda.get_device_name(device) if cuda else cpu_name()
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
    rows: list[dict[str, Any]] = []
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

    _print_report(
        rows,
        args.workers,
        f"images/s on {device_name} ({args.precision}, batch {batch_size}, {threads} threads; "
        f"a: fp32, DataLoader batch 50; prep {prep:,.0f} img/s, write {write:,.0f} rows/s)",
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"setup": setup, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
