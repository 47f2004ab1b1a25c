"""Snakemake adapter: run one model in one variant -> logits, timing and (for the linear probe)
features Parquet files. The rule train_features runs it over the training set for features only.
"""

import contextlib
from pathlib import Path

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.inference.failed_job import recorded_failure
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.request import ImageSet, InferenceRequest
from cifar_zeroshot.models.weights_file import WeightsFile


def _optional_path(files, name: str) -> Path | None:
    # Namedlist's `in` tests values, not names, hence .get.
    value = files.get(name)
    return Path(value) if value else None


with job_log(snakemake.log[0], snakemake.output) as progress:
    params, inputs, outputs = snakemake.params, snakemake.input, snakemake.output
    train_set = _optional_path(inputs, "train_set")  # the rule train_features
    images = train_set or Path(inputs.test_set)
    request = InferenceRequest(
        model=snakemake.wildcards.model,
        weights=params.weights,
        variant=Variant.parse(snakemake.wildcards.variant),
        images=images,
        dataset=params.dataset,
        logits_path=_optional_path(outputs, "logits"),
        timing_path=Path(outputs.timing),
        limit=params.limit,
        batch_size=params.batch_size,
        device=params.device,
        threads=snakemake.threads,
        warmup_batches=params.warmup_batches,
        gpu_lock_dir=Path(params.gpu_lock_dir),
        gpu_wait_seconds=params.gpu_wait_seconds,
        features_path=_optional_path(outputs, "features"),
        image_set=ImageSet.TEST if train_set is None else ImageSet.TRAINING,
        embeddings_path=_optional_path(outputs, "embeddings"),
        weights_file=WeightsFile.from_params(params.weights_file),
        blocked=bool(params.get("blocked")),
    )
    wildcards = snakemake.wildcards
    # A test set's run that fails in its model is recorded as failed (its outputs say so), so
    # the metrics still run on the others; the training set's features fail as any job does.
    recorded = (
        recorded_failure(
            (wildcards.test_set, wildcards.model, wildcards.variant),
            list(outputs),
            snakemake.log[0],
            progress,
        )
        if train_set is None
        else contextlib.nullcontext()
    )
    with recorded:
        # The progress bar goes to the job's log, beside the logging records; onnxruntime
        # variants have the export as an input.
        run_inference(
            request, progress_file=progress, exported_model=_optional_path(inputs, "onnx")
        )
