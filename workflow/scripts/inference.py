"""Snakemake adapter: run one model in one variant -> logits and timing Parquet files."""

from pathlib import Path

from cifar_zeroshot.inference import run_inference
from cifar_zeroshot.inference_request import InferenceRequest
from cifar_zeroshot.job_log import job_log
from cifar_zeroshot.variants import Variant

with job_log(snakemake.log[0], snakemake.output) as progress:
    params = snakemake.params
    request = InferenceRequest(
        model=snakemake.wildcards.model,
        weights=params.weights,
        variant=Variant.parse(snakemake.wildcards.variant),
        test_set=Path(snakemake.input.test_set),
        dataset=params.dataset,
        logits_path=Path(snakemake.output.logits),
        timing_path=Path(snakemake.output.timing),
        limit=params.limit,
        batch_size=params.batch_size,
        device=params.device,
        threads=snakemake.threads,
        warmup_batches=params.warmup_batches,
        gpu_lock_dir=Path(params.gpu_lock_dir),
        gpu_wait_seconds=params.gpu_wait_seconds,
    )
    # The progress bar goes to the job's log, beside the logging records.
    # Namedlist's `in` tests values, not names, hence .get; onnxruntime variants have it.
    exported = snakemake.input.get("onnx")
    run_inference(
        request, progress_file=progress, exported_model=Path(exported) if exported else None
    )
