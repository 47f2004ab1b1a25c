"""Snakemake adapter: a run's training and test features -> its linear probe's test scores and
the fitted probe (which scores the shifted test sets: apply_probe.py)."""

import torch

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.methods.probe.job import ProbeInputs, run_probe
from cifar_zeroshot.methods.probe.settings import ProbeSettings

with job_log(snakemake.log[0], snakemake.output):
    torch.set_num_threads(snakemake.threads)
    inputs, params = snakemake.input, snakemake.params
    run_probe(
        ProbeInputs.from_named(inputs),
        ProbeSettings(
            validation_fraction=params.validation_fraction,
            regularisations=tuple(params.regularisations),
            max_iterations=params.max_iterations,
            seed=params.seed,
        ),
        snakemake.output.scores,
        snakemake.output.fit,
    )
