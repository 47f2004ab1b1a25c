#!/usr/bin/env bash
# The one check for a lent H100/H200 (run from the repository root; about 4-5 minutes):
#   1. nvidia-smi and versions;
#   2. bench/compare.py, bf16 eager, alexnet vgg16 resnet50, 10k images, lab-report baselines
#      with 0 and 8 DataLoader workers;
#   3. the same with torch.compile (b and c only), cut off after COMPILE_LIMIT_S;
#      then AlexNet eager at batch 1024, and CUDA preprocessing against the CPU's;
#   4. a small inference job per model and precision through run_inference (untrained weights,
#      synthetic data): facts, GPU slot, memory figures, fp32-vs-bf16 differences;
#   5. ResNet50 fp32 on ONNX Runtime's CUDA execution provider against torch fp32 (or the
#      refusal that names onnxruntime-gpu, where only the CPU build is installed);
#   6. the linear probe's training-set job against the test-set job (rate ratio, >= 0.9 wanted),
#      a CLIP image job where open_clip is installed, and the probe's fit on the GPU and CPU;
#   7. the whole default workflow through snakemake (bench/workflow_timing.py), fp32 and
#      bf16-compile, 10,000 images: wall time and each job's phases and GPU energy. Needs
#      snakemake on the machine (carried wheels); about 2 more minutes.
# Everything is logged to $OUT/gpu_check.log; JSON results go to $OUT (at most 8 files come back).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu_check_out}"
mkdir -p "$OUT"
export PYTHONPATH=workflow PYTHONUNBUFFERED=1
COMPILE_LIMIT_S="${COMPILE_LIMIT_S:-150}"

{
  echo "== nvidia-smi"
  nvidia-smi
  echo "== versions"
  python3 -c 'import sys, torch, torchvision, pyarrow, pandas; print(sys.version.split()[0], "torch", torch.__version__, "torchvision", torchvision.__version__, "pyarrow", pyarrow.__version__, "pandas", pandas.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), torch.cuda.get_device_name(0))'

  echo "== compare: bf16 eager"
  python3 bench/compare.py --device cuda --precision bf16 --images 10000 \
    --models alexnet vgg16 resnet50 --workers 0 8 --json "$OUT/compare_bf16.json"

  echo "== compare: bf16 torch.compile (b and c only; cut off after ${COMPILE_LIMIT_S}s)"
  timeout "$COMPILE_LIMIT_S" python3 bench/compare.py --device cuda --precision bf16 \
    --forwards compile --variants bf16-compile --images 10000 --models alexnet vgg16 resnet50 \
    --workers --json "$OUT/compare_bf16_compile.json" \
    || echo "compile comparison stopped or failed (exit $?)"

  echo "== AlexNet at batch 1024 (b and c only): does a bigger batch lift c/b?"
  python3 bench/compare.py --device cuda --precision bf16 --batch-size 1024 --images 10000 \
    --models alexnet --workers --json "$OUT/compare_alexnet_1024.json"

  echo "== preprocessing: CUDA against the CPU (same code; the CPU result is tested against PIL)"
  python3 - <<'PY'
import numpy as np, torch
from torchvision.models import ResNet50_Weights, Swin_T_Weights
from cifar_zeroshot.models.preprocess import preprocess_batch, spec_for
images = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (64, 32, 32, 3), dtype=np.uint8))
for weights in (None, ResNet50_Weights.IMAGENET1K_V2, Swin_T_Weights.IMAGENET1K_V1):
    for protocol in ("weights", "labreport"):
        spec = spec_for(weights, protocol)
        cpu = preprocess_batch(images, spec)
        for dtype, channels_last in ((torch.float32, False), (torch.bfloat16, True)):
            gpu = preprocess_batch(images.cuda(), spec, dtype, channels_last).float().cpu()
            print(f"{str(weights):32s} {protocol:9s} {str(dtype):14s} max |cuda - cpu| "
                  f"{(gpu - cpu).abs().max().item():.3g}")
PY

  echo "== inference jobs: each model in fp32, tf32, bf16 and fp32-labreport (2,048 images)"
  python3 - "$OUT" <<'PY'
import dataclasses, json, sys, tempfile
from pathlib import Path
import numpy as np
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.request import InferenceRequest
from cifar_zeroshot.records.logits import read_logits, read_timing
from cifar_zeroshot.core.variants import Variant

out = Path(sys.argv[1])
rng = np.random.default_rng(0)
report = {}
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    np.savez(tmp / "test_set.npz", images=rng.integers(0, 256, (2048, 32, 32, 3), dtype=np.uint8),
             labels=(np.arange(2048) % 10).astype(np.uint8))
    for model in ("alexnet", "vgg16", "resnet50"):
        logits = {}
        for variant in (Variant("fp32"), Variant("tf32"), Variant("bf16"), Variant("fp32", False, "labreport")):
            request = InferenceRequest(
                model=model, weights="none", variant=variant, images=tmp / "test_set.npz",
                dataset="synthetic", logits_path=tmp / "logits" / model / f"{variant.name}.parquet",
                timing_path=tmp / "timing" / model / f"{variant.name}.parquet", limit=None,
                batch_size=256, device="cuda", threads=8, warmup_batches=2,
                gpu_lock_dir=tmp / "locks", gpu_wait_seconds=None)
            outcome = run_inference(request)
            table = read_logits(request.logits_path)
            assert table.logits.shape == (2048, 1000) and (table.image_index == np.arange(2048)).all()
            logits[variant.name] = table.logits
            timing = read_timing(request.timing_path)
            assert timing.facts == outcome.facts and timing.summary == outcome.summary
            report[f"{model}/{variant.name}"] = {"facts": dataclasses.asdict(outcome.facts),
                                                 "summary": dataclasses.asdict(outcome.summary)}
            s = outcome.summary
            print(f"{model:9s} {variant.name:15s} {s.images_per_second:>10,.0f} img/s  p50 "
                  f"{s.latency_p50_ms:.2f} ms  peak alloc {s.torch_peak_allocated_bytes / 2**20:,.0f} MiB  "
                  f"nvml {s.nvml_process_bytes}  gpu_index {outcome.facts.gpu_index}")
            if model == "resnet50" and variant.name == "bf16":
                timing.batches.to_csv(out / "timing_resnet50_bf16.csv", index=False)
        spread = float(logits["fp32"].std())
        for other in ("tf32", "bf16"):
            diff = float(np.abs(logits[other] - logits["fp32"]).max())
            agree = float(np.mean(logits[other].argmax(1) == logits["fp32"].argmax(1)))
            print(f"{model:9s} {other} vs fp32: max |diff| {diff:.4g} (logit std {spread:.4g}), "
                  f"argmax agreement {agree:.4f}")
            report[f"{model}/{other}"]["vs_fp32"] = {"max_abs_diff": diff, "argmax_agreement": agree}
(out / "inference_check.json").write_text(json.dumps(report, indent=2, default=str))
PY
  echo "== onnxruntime on CUDA: refused without onnxruntime-gpu, else fp32 against torch fp32"
  python3 - <<'PY'
import tempfile
from pathlib import Path
import numpy as np
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.request import InferenceRequest
from cifar_zeroshot.records.logits import read_logits
from cifar_zeroshot.runtimes.onnx_export import export_onnx
from cifar_zeroshot.core.variants import Variant

with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    rng = np.random.default_rng(0)
    np.savez(tmp / "test_set.npz", images=rng.integers(0, 256, (1024, 32, 32, 3), dtype=np.uint8),
             labels=(np.arange(1024) % 10).astype(np.uint8))
    export_onnx("resnet50", "none", tmp / "resnet50.onnx")
    logits = {}
    for variant in (Variant("fp32"), Variant("fp32", runtime="onnxruntime")):
        request = InferenceRequest(
            model="resnet50", weights="none", variant=variant, images=tmp / "test_set.npz",
            dataset="synthetic", logits_path=tmp / f"{variant.name}.parquet",
            timing_path=tmp / f"{variant.name}.timing.parquet", limit=None, batch_size=256,
            device="cuda", threads=8, warmup_batches=2, gpu_lock_dir=tmp / "locks",
            gpu_wait_seconds=None)
        try:
            outcome = run_inference(request, exported_model=tmp / "resnet50.onnx")
        except UserError as error:
            print(f"{variant.name}: refused: {error}")
            continue
        logits[variant.name] = read_logits(request.logits_path).logits
        print(f"{variant.name}: {outcome.summary.images_per_second:,.0f} img/s")
    if len(logits) == 2:
        a, b = logits["fp32"], logits["fp32-onnxruntime"]
        print(f"max |diff| {np.abs(a - b).max():.3g}, argmax agreement "
              f"{np.mean(a.argmax(1) == b.argmax(1)):.4f}")
PY
  echo "== linear probe and CLIP on the GPU: training-set rate against the test set's, the fit"
  python3 - "$OUT" <<'PY'
import dataclasses, json, sys, tempfile, time
from pathlib import Path
import numpy as np, torch
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.request import ImageSet, InferenceRequest
from cifar_zeroshot.methods.probe.fit import fit_probe
from cifar_zeroshot.methods.probe.settings import ProbeSettings
from cifar_zeroshot.core.variants import Variant

out, report = Path(sys.argv[1]), {}
rng = np.random.default_rng(0)
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    for name, n in (("test", 10_000), ("train", 50_000)):
        np.savez(tmp / f"{name}.npz", images=rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                 labels=(np.arange(n) % 10).astype(np.uint8))
    models = ["alexnet", "resnet50"]
    try:
        import open_clip  # noqa: F401
        models.append("clip-ViT-B-32.openai")
    except ImportError:
        print("open_clip is not importable here: the CLIP image job is skipped")
    for model in models:
        for variant in (Variant("bf16"),):
            base = InferenceRequest(
                model=model, weights="none", variant=variant, images=tmp / "test.npz",
                dataset="synthetic", logits_path=tmp / "l.parquet", timing_path=tmp / "t.parquet",
                limit=None, batch_size=256, device="cuda", threads=8, warmup_batches=2,
                gpu_lock_dir=tmp / "locks", gpu_wait_seconds=None)
            if model.startswith("clip-"):
                jobs = {"test": dataclasses.replace(base, logits_path=None, embeddings_path=tmp / "e.parquet")}
            else:
                jobs = {
                    "test": dataclasses.replace(base, features_path=tmp / "f.parquet"),
                    "train": dataclasses.replace(base, logits_path=None, features_path=tmp / "ft.parquet",
                                                 images=tmp / "train.npz", image_set=ImageSet.TRAINING),
                }
            rates = {}
            for job, request in jobs.items():
                summary = run_inference(request).summary
                rates[job] = summary.images_per_second
                report[f"{model}/{variant.name}/{job}"] = dataclasses.asdict(summary)
            text = ", ".join(f"{job} {rate:,.0f} img/s" for job, rate in rates.items())
            ratio = rates["train"] / rates["test"] if "train" in rates else None
            print(f"{model} {variant.name}: {text}" + (f"; train/test {ratio:.2f}" if ratio else ""))
    features = torch.randn(50_000, 2048, generator=torch.Generator().manual_seed(0)).relu().numpy()
    labels = np.arange(50_000) % 10
    settings = ProbeSettings(0.2, (0.1, 0.01, 0.001, 0.0001, 0.00001), 50, 0)
    for device in ("cuda", "cpu"):
        begin = time.perf_counter()
        fit = fit_probe(features, labels, settings, device=device)
        print(f"probe fit 50,000 x 2048 on {device}: {time.perf_counter() - begin:.1f} s")
        report[f"probe_fit_{device}_seconds"] = fit.seconds
(out / "probe_clip_check.json").write_text(json.dumps(report, indent=2, default=str))
PY
  echo "== the whole default workflow, as a user runs it (10,000 synthetic images, untrained)"
  # The GPU machine has no snakemake: carry its wheels (docs/performance.md says how).
  if python3 -c 'import snakemake' 2>/dev/null; then
    for variant in "precision=[fp32] compile=[false]" "precision=[bf16] compile=[true]"; do
      # shellcheck disable=SC2086  # the variant is a list of key=value words
      python3 bench/workflow_timing.py --config dataset=synthetic \
        synthetic_images_per_class=1000 weights=none device=cuda $variant \
        --json "$OUT/workflow_${variant//[^a-z0-9]/_}.json"
    done
  else
    echo "snakemake is not importable here: whole-workflow timing skipped"
  fi
  echo "== done"
} 2>&1 | tee "$OUT/gpu_check.log"
