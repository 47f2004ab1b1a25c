"""How long the linear probe takes to fit on CIFAR-10-sized features, and whether float16
storage of the features changes its accuracy.

    python bench/probe_fit_timing.py                      # 50,000 x 2048 and 50,000 x 4096
    python bench/probe_fit_timing.py --widths 2048 --regularisations 1e-2 1e-3 1e-4

The features are made up but shaped like a CNN's penultimate layer: non-negative (ReLU), of
unequal scales, with the classes in a low-dimensional structure shared by many features and
buried in per-feature noise, so a linear probe reaches about 85-90% rather than 100%. For each
width it times fit_probe (the whole λ search and the refit) against the 60 s budget (wall time;
the CPU time beside it is steadier where other jobs share the cores), prints the chosen λ, the
iterations and the final gradient, and the test accuracy; for the first width it also fits the
same features rounded to float16 and prints the accuracy difference.

It prints what it measured and asserts nothing.
"""

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from cifar_zeroshot.methods.probe.fit import fit_probe, probe_scores  # noqa: E402
from cifar_zeroshot.methods.probe.settings import ProbeSettings  # noqa: E402

BUDGET_S = 60.0
CLASSES = 10
LATENT = 64


@dataclass(frozen=True)
class Timing:
    images: int
    width: int
    storage: str  # the features' dtype as fitted: float32, or float16 as they are stored
    seconds: float
    cpu_seconds: float  # the process's CPU time: on a shared machine, closer to an idle one's
    budget_ratio: float
    regularisation: float
    validation_accuracies: list[float]
    search_iterations: list[int]
    refit_iterations: int
    gradient_max: float
    test_accuracy: float


def make_features(
    train_images: int, test_images: int, width: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train features, train labels, test features, test labels); features float32 [N, width]."""
    rng = np.random.default_rng(seed)
    codes = rng.standard_normal((CLASSES, LATENT), dtype=np.float32) * 0.35
    mixing = rng.standard_normal((LATENT, width), dtype=np.float32) / LATENT**0.5
    scales = np.exp(rng.standard_normal(width, dtype=np.float32))  # features of unequal scale

    def draw(images: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.arange(images) % CLASSES)
        latent = codes[labels] + rng.standard_normal((images, LATENT), dtype=np.float32)
        features = latent @ mixing
        features += rng.standard_normal(features.shape, dtype=np.float32)
        np.maximum(features, 0.0, out=features)
        features *= scales
        return features, labels

    train = draw(train_images)
    return *train, *draw(test_images)


def time_fit(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    settings: ProbeSettings,
    device: str,
) -> Timing:
    features, labels = train
    cpu_started = time.process_time()
    fit = fit_probe(features, labels, settings, device=device)
    cpu_seconds = time.process_time() - cpu_started
    accuracy = float((probe_scores(fit, test[0]).argmax(axis=1) == test[1]).mean())
    return Timing(
        images=len(labels),
        width=features.shape[1],
        storage=str(features.dtype),
        seconds=fit.seconds,
        cpu_seconds=cpu_seconds,
        budget_ratio=fit.seconds / BUDGET_S,
        regularisation=fit.regularisation,
        validation_accuracies=list(fit.validation_accuracies),
        search_iterations=list(fit.search_iterations),
        refit_iterations=fit.iterations,
        gradient_max=fit.gradient_max,
        test_accuracy=accuracy,
    )


def report(timing: Timing) -> None:
    accuracies = ", ".join(f"{a:.4f}" for a in timing.validation_accuracies)
    print(
        f"{timing.images} x {timing.width} {timing.storage}: {timing.seconds:.1f} s "
        f"({timing.budget_ratio:.2f} of the {BUDGET_S:.0f} s budget; CPU time "
        f"{timing.cpu_seconds:.1f} s); λ={timing.regularisation:g}; "
        f"validation accuracy per λ [{accuracies}]; iterations per λ {timing.search_iterations}, "
        f"refit {timing.refit_iterations}; final max |gradient| {timing.gradient_max:.2e}; "
        f"test accuracy {timing.test_accuracy:.4f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=50_000, help="training images")
    parser.add_argument("--test-images", type=int, default=10_000)
    parser.add_argument("--widths", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument(
        "--regularisations", type=float, nargs="+", default=[1e-1, 1e-2, 1e-3, 1e-4, 1e-5]
    )
    parser.add_argument("--max-iterations", type=int, default=50)
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-float16", action="store_true", help="skip the float16 comparison")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = ProbeSettings(
        args.validation_fraction, tuple(args.regularisations), args.max_iterations, 0
    )
    print(f"{settings}, {torch.get_num_threads()} threads, device {args.device}", flush=True)
    timings = []
    for index, width in enumerate(args.widths):
        started = time.perf_counter()
        train_x, train_y, test_x, test_y = make_features(args.images, args.test_images, width, 0)
        print(f"made {width}-wide features in {time.perf_counter() - started:.1f} s", flush=True)
        timings.append(time_fit((train_x, train_y), (test_x, test_y), settings, args.device))
        report(timings[-1])
        if index == 0 and not args.no_float16:
            halves = (train_x.astype(np.float16), train_y), (test_x.astype(np.float16), test_y)
            timings.append(time_fit(*halves, settings, args.device))
            report(timings[-1])
            delta = 100 * (timings[-1].test_accuracy - timings[-2].test_accuracy)
            print(f"float16 - float32 test accuracy: {delta:+.3f} points", flush=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in timings], indent=2) + "\n")


if __name__ == "__main__":
    main()
