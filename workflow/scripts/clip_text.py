"""Snakemake adapter: the CLIP prompts file -> one model's class embeddings."""

import torch

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.methods.clip.text_job import run_text_job

with job_log(snakemake.log[0], snakemake.output):
    torch.set_num_threads(snakemake.threads)
    run_text_job(
        snakemake.wildcards.model,
        snakemake.params.weights,
        snakemake.input.prompts,
        snakemake.output[0],
    )
