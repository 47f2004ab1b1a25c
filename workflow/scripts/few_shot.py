"""Snakemake adapter: a run's features and probe -> results/few_shot/{model}/{variant}.csv."""

from pathlib import Path

import torch

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.methods.probe.few_shot_job import run_few_shot
from cifar_zeroshot.methods.probe.few_shot_settings import FewShotSettings
from cifar_zeroshot.methods.probe.job import ProbeInputs
from cifar_zeroshot.methods.probe.settings import ProbeSettings

with job_log(snakemake.log[0], snakemake.output):
    torch.set_num_threads(snakemake.threads)
    inputs, params = snakemake.input, snakemake.params
    run_few_shot(
        ProbeInputs.from_named(inputs),
        Path(inputs.probe),
        FewShotSettings.from_params(params.few_shot),
        ProbeSettings.from_params(params.probe),
        snakemake.output[0],
    )
