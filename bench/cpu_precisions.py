"""CPU precisions side by side: fp32 and bf16 on torch, fp32 and int8 on ONNX Runtime.

Per model (untrained: speed depends on neither the weights nor the pixels), in one process, on
one prepared batch of random 224x224 inputs: images/s of the bare forward pass in each of the
four ways the workflow runs it on the CPU, and each one's ratio to fp32 ONNX Runtime. torch
runs channels_last (as the workflow does on the CPU) and bf16 casts model and input, as the
workflow's bf16 variant does; ONNX Runtime runs the workflow's session options
(onnx_forward.cpu_session) on the export and on its int8 copy made as the quantise rule makes it
(calibrated here on random inputs: speed does not depend on the ranges). The kinds take turns
for --rounds rounds; each figure is the median. For the int8 graph it also counts, in ONNX
Runtime's optimised graph, the nodes that compute in int8 against those left in fp32, which
says where an int8 speed-up is lost. Asserts nothing.

    PYTHONPATH=workflow python bench/cpu_precisions.py --models resnet50 --batch 8 --threads 2
"""

import argparse
import collections
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
import torch
import torchvision

from cifar_zeroshot.runtimes.calibration_source import TRAINING_SET
from cifar_zeroshot.runtimes.cpu_features import cpu_flags
from cifar_zeroshot.runtimes.device_setup import cpu_name, set_threads
from cifar_zeroshot.runtimes.onnx_export import INPUT_NAME, export_module
from cifar_zeroshot.runtimes.onnx_file import Calibration
from cifar_zeroshot.runtimes.onnx_forward import _options, cpu_session
from cifar_zeroshot.runtimes.onnx_quantise import quantise_export

KINDS = ("fp32 torch", "bf16 torch", "fp32 onnxruntime", "int8 onnxruntime")
REFERENCE = "fp32 onnxruntime"
# Operators that compute in integers once ONNX Runtime has fused the QDQ pairs around them.
INTEGER_OPS = ("QLinear", "ConvInteger", "MatMulInteger", "DynamicQuantize", "QGemm")
COMPUTE_OPS = ("Conv", "MatMul", "Gemm", "FusedConv", "FusedMatMul", "FusedGemm")


def _timed(forward: Callable[[], object], repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        forward()
    return time.perf_counter() - start


def _torch_forward(model: torch.nn.Module, x: torch.Tensor, dtype: torch.dtype) -> Callable:
    model = model.to(dtype=dtype, memory_format=torch.channels_last)
    x = x.to(dtype=dtype).contiguous(memory_format=torch.channels_last)

    def forward() -> object:
        with torch.inference_mode():
            return model(x)

    return forward


def _ort_forward(path: Path, x: np.ndarray, threads: int) -> Callable:
    session = cpu_session(path, threads)
    return lambda: session.run(None, {INPUT_NAME: x})


def _operator_counts(path: Path, threads: int) -> dict[str, int]:
    """Integer and fp32 compute nodes of ONNX Runtime's optimised graph of ``path``."""
    import onnxruntime

    with tempfile.TemporaryDirectory() as folder:
        options = _options(threads)
        optimised = Path(folder) / "optimised.onnx"
        options.optimized_model_filepath = str(optimised)
        onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        kinds = collections.Counter(node.op_type for node in onnx.load(str(optimised)).graph.node)
    integer = sum(n for op, n in kinds.items() if op.startswith(INTEGER_OPS))
    fp32 = sum(n for op, n in kinds.items() if op in COMPUTE_OPS)
    left = {op: n for op, n in kinds.items() if op in ("QuantizeLinear", "DequantizeLinear")}
    return {"int8 compute": integer, "fp32 compute": fp32, **left}


def _model_files(name: str, folder: Path, batch: int, threads: int) -> tuple[Path, Path]:
    model = torchvision.models.get_model(name, weights=None).eval()
    export = folder / f"{name}.onnx"
    export_module(model, 224, export, model_name=name, weights_label="none")
    rng = np.random.default_rng(0)

    def batches() -> Iterator[np.ndarray]:
        for _ in range(2):
            yield rng.standard_normal((batch, 3, 224, 224), dtype=np.float32)

    calibration = Calibration(TRAINING_SET, "random inputs", "", list(range(2 * batch)), "MinMax")
    quantised = folder / f"{name}.int8.onnx"
    quantise_export(export, quantised, batches, calibration, threads=threads)
    return export, quantised


def bench_model(name: str, batch: int, threads: int, repeats: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        export, quantised = _model_files(name, Path(scratch), batch, threads)
        x = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(1))
        model = torchvision.models.get_model(name, weights=None).eval()
        forwards = {
            "fp32 torch": _torch_forward(model, x, torch.float32),
            "bf16 torch": _torch_forward(
                torchvision.models.get_model(name, weights=None).eval(), x, torch.bfloat16
            ),
            "fp32 onnxruntime": _ort_forward(export, x.numpy(), threads),
            "int8 onnxruntime": _ort_forward(quantised, x.numpy(), threads),
        }
        for forward in forwards.values():
            forward()  # warm-up: oneDNN primitives, ONNX Runtime's first-run allocations
        seconds: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _ in range(rounds):
            for kind in KINDS:
                seconds[kind].append(_timed(forwards[kind], repeats))
        rates = {kind: batch * repeats / statistics.median(seconds[kind]) for kind in KINDS}
        counts = _operator_counts(quantised, threads)
    for kind in KINDS:
        ratio = rates[kind] / rates[REFERENCE]
        print(f"| {name} | {kind} | {rates[kind]:.1f} | {ratio:.2f}x |")
    print(f"|   {name} int8 graph (ONNX Runtime optimised) | {counts} | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["squeezenet1_0", "resnet50"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="forward passes per timing")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    set_threads(args.threads)
    flags = cpu_flags() or frozenset()
    bf16 = sorted(flags & {"avx512_bf16", "amx_bf16", "avx512_vnni", "avx_vnni"})
    print(
        f"CPU: {cpu_name()} ({', '.join(bf16) or 'no bf16/VNNI flags'}); torch "
        f"{torch.__version__} ({torch.backends.cpu.get_cpu_capability()}); batch {args.batch}, "
        f"{args.threads} threads (torch intra-op, ONNX Runtime intra_op_num_threads; "
        f"graph optimisation ORT_ENABLE_ALL); median of {args.rounds} rounds of {args.repeats} "
        "passes"
    )
    print("| model | kind | images/s | vs fp32 onnxruntime |\n|---|---|---:|---:|")
    for name in args.models:
        bench_model(name, args.batch, args.threads, args.repeats, args.rounds)


if __name__ == "__main__":
    main()
