"""The fixed cost of one inference job beside the time its images take: each phase's seconds and
its share of the job's total.

    python bench/job_fixed_cost.py                        # alexnet, untrained, 64 images, CPU
    python bench/job_fixed_cost.py --model resnet50 --limit 128 --threads 2
    python bench/job_fixed_cost.py --timing results/timing/cifar10/alexnet/fp32.parquet

Without --timing it runs one job in this process, as the inference script does (the same
imports, then inference.job.run_inference on the CPU), with a clock around each phase:
interpreter start (process creation to this script's first line), the script's imports, the
request check, the model's source (names and weights resolved), reading the images, torch's
set-up, building the model and putting it and the images on the device, the images' digest, the
parameter and FLOP count, the host-memory estimate, the warm-up and timed batches, the rest of
the pass (the writers' start and close), and the timing file; what no clock covers is "other".
Snakemake's own start-up before a script (its preamble) is not in it: a workflow run's timing
file holds that too, as part of startup_seconds.

With --timing it reads what finished runs recorded instead: startup_seconds (process creation
to the job's start: interpreter, imports, Snakemake's preamble), model_load_seconds,
compile_seconds, and the warm-up and timed batches, each with its share of their sum.

It prints what it measured and asserts nothing.
"""

import time

_FIRST_LINE = time.monotonic()  # before any import: the interpreter's own start ends here

import argparse  # noqa: E402
import contextlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))
REAL_SAMPLE_IMAGES = REPO / "data" / "cifar10" / "real-sample" / "test_set.npz"


class Clock:
    """Seconds per phase, in the order the phases first ran; a phase may run more than once."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        begin = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - begin)

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.phase(name):
                return function(*args, **kwargs)

        return timed


def table(rows: list[tuple[str, float]], total: float, what: str) -> str:
    lines = [f"| phase | seconds | share of {what} |", "|---|---:|---:|"]
    lines += [
        f"| {name} | {seconds:.3f} | {100 * seconds / total:.1f} % |" for name, seconds in rows
    ]
    lines.append(f"| **{what}** | **{total:.3f}** | 100 % |")
    return "\n".join(lines)


# The job's steps timed where inference.job looks them up (its module globals); each wrapped
# step must not call another, so the phases add up.
JOB_PHASES = {
    "check_request": "request check",
    "model_source": "model source (names, weights resolved)",
    "_load_images": "images read",
    "set_threads": "torch set-up",
    "set_precision": "torch set-up",
    "start_device": "torch set-up",
    "images_digest": "images digest",
    "try_count_complexity": "parameter and FLOP count",
    "_cpu_batch_size": "host-memory estimate",
    "write_timing": "timing file",
}


def run_job(args: argparse.Namespace) -> None:
    clock = Clock()
    with clock.phase("imports (the inference script's)"):
        from cifar_zeroshot.core import job_log  # noqa: F401
        from cifar_zeroshot.core.variants import Variant
        from cifar_zeroshot.inference import failed_job  # noqa: F401
        from cifar_zeroshot.inference import job as job_module
        from cifar_zeroshot.inference.request import ImageSet, InferenceRequest
        from cifar_zeroshot.models import weights_file  # noqa: F401
    from cifar_zeroshot.inference.clock import process_age_seconds
    from cifar_zeroshot.records.logits import read_timing

    age_at_first_line = process_age_seconds() - (time.monotonic() - _FIRST_LINE)
    clock.seconds = {"interpreter start": age_at_first_line, **clock.seconds}

    for name, phase in JOB_PHASES.items():
        setattr(job_module, name, clock.wrap(phase, getattr(job_module, name)))
    make_loader = job_module.forward_loader

    def timed_forward_loader(*loader_args: Any, **loader_kwargs: Any) -> Any:
        return clock.wrap(
            "model build and weights, to the device", make_loader(*loader_args, **loader_kwargs)
        )

    job_module.forward_loader = timed_forward_loader
    run_pass = job_module.run_pass
    job_module.run_pass = clock.wrap("pass", run_pass)

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        variant = Variant.parse(args.variant)
        request = InferenceRequest(
            model=args.model,
            weights=args.weights,
            variant=variant,
            images=args.images,
            dataset="synthetic",
            logits_path=out / "logits.parquet",
            timing_path=out / "timing.parquet",
            limit=args.limit,
            batch_size=args.batch_size,
            device="cpu",
            threads=args.threads,
            warmup_batches=args.warmup_batches,
            gpu_lock_dir=out / "locks",
            gpu_wait_seconds=None,
            image_set=ImageSet.TEST,
        )
        begin = time.perf_counter()
        outcome = job_module.run_inference(request)
        job_seconds = time.perf_counter() - begin
        batches = read_timing(request.timing_path).batches
    total = process_age_seconds()
    warmup = float(batches.loc[batches["warmup"], "total_seconds"].sum())
    timed = float(batches.loc[~batches["warmup"], "total_seconds"].sum())
    seconds = dict(clock.seconds)
    pass_seconds = seconds.pop("pass")
    outside = ("interpreter start", "imports (the inference script's)")
    rows = list(seconds.items())
    rows += [
        (f"warm-up batches ({int(batches['warmup'].sum())})", warmup),
        (f"timed batches ({int(batches.loc[~batches['warmup'], 'images'].sum())} images)", timed),
        ("rest of the pass (the writers' start and close)", pass_seconds - warmup - timed),
        (
            "rest of the job (no clock of its own)",
            job_seconds - sum(s for name, s in clock.seconds.items() if name not in outside),
        ),
    ]
    rows.append(("rest of the process (this script's own steps)", total - sum(s for _, s in rows)))
    print(
        f"{args.model}, weights {args.weights}, {variant.name}, CPU, {args.threads} threads, "
        f"batch {outcome.summary.batch_size}, {outcome.facts.image_count} images of {args.images}"
    )
    print(
        f"the job's own startup_seconds (process creation to run_inference): "
        f"{outcome.summary.startup_seconds:.3f}\n"
    )
    print(table(rows, total, "the process"))
    fixed = total - timed
    print(
        f"\nfixed cost (all but the timed batches): {fixed:.3f} s, "
        f"{100 * fixed / total:.1f} % of the process; the timed batches {timed:.3f} s"
    )


def from_timing(paths: list[Path]) -> None:
    from cifar_zeroshot.records.logits import read_timing

    for path in paths:
        timing = read_timing(path)
        summary, batches = timing.summary, timing.batches
        warmup = batches["warmup"].astype(bool)
        rows = [
            ("start-up (interpreter, imports, Snakemake's preamble)", summary.startup_seconds),
            ("model load (build, weights, to the device)", summary.model_load_seconds),
            ("compilation", summary.compile_seconds or 0.0),
            (
                f"warm-up batches ({int(warmup.sum())})",
                float(batches.loc[warmup, "total_seconds"].sum()),
            ),
            (
                f"timed batches ({int(batches.loc[~warmup, 'images'].sum())} images)",
                float(batches.loc[~warmup, "total_seconds"].sum()),
            ),
        ]
        known = [(name, s) for name, s in rows if s is not None]
        total = sum(s for _, s in known)
        facts = timing.facts
        print(f"{path}: {facts.model} {facts.variant}, {facts.image_count} images")
        print(table(known, total, "these phases"))
        print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timing", type=Path, nargs="+", help="timing files of finished runs")
    parser.add_argument("--model", default="alexnet")
    parser.add_argument("--weights", default="none")
    parser.add_argument("--variant", default="fp32")
    parser.add_argument("--images", type=Path, default=REAL_SAMPLE_IMAGES, help="a test set .npz")
    parser.add_argument("--limit", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--warmup-batches", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.timing:
        from_timing(args.timing)
        return
    if not args.images.exists():
        parser.error(
            f"{args.images} does not exist: run ./run.sh --configfile "
            "config/presets/real-sample.yaml once, or pass --images"
        )
    run_job(args)


if __name__ == "__main__":
    main()
