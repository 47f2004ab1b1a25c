"""Snakemake adapter: run one model in one variant -> logits and timing Parquet files."""

import logging
import sys
from pathlib import Path

from cifar_zeroshot.inference import InferenceRequest, run_inference
from cifar_zeroshot.script_support import run_reporting_user_errors
from cifar_zeroshot.variants import Variant


def main() -> None:
    with open(snakemake.log[0], "w", encoding="utf-8") as log:
        # Progress and details go to the job's log; warnings also reach the terminal.
        to_log = logging.StreamHandler(log)
        to_log.setLevel(logging.INFO)
        to_terminal = logging.StreamHandler(sys.stderr)
        to_terminal.setLevel(logging.WARNING)
        logging.basicConfig(level=logging.INFO, handlers=[to_log, to_terminal], force=True)
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
        run_inference(request, progress_file=log)


run_reporting_user_errors(main, snakemake.log[0])
