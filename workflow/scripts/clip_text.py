"""Snakemake adapter: the CLIP prompts file -> one model's class embeddings."""

import torch

from cifar_zeroshot.clip_text_job import run_text_job
from cifar_zeroshot.job_log import job_log

with job_log(snakemake.log[0], snakemake.output):
    torch.set_num_threads(snakemake.threads)
    run_text_job(
        snakemake.wildcards.model,
        snakemake.params.weights,
        snakemake.input.prompts,
        snakemake.output[0],
    )
