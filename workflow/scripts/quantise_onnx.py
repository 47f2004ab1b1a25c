"""Snakemake adapter: one model's fp32 export -> its int8 copy and record."""

from pathlib import Path

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.inference.quantise_job import quantise_model
from cifar_zeroshot.models.weights_file import WeightsFile
from cifar_zeroshot.runtimes.calibration_source import CalibrationSource
from cifar_zeroshot.runtimes.device_setup import set_threads

with job_log(snakemake.log[0], snakemake.output):
    set_threads(snakemake.threads)
    quantise_model(
        snakemake.wildcards.model,
        snakemake.params.weights,
        Path(snakemake.input.onnx),
        Path(snakemake.output.model),
        CalibrationSource.from_params(snakemake.params.calibration),
        threads=snakemake.threads,
        weights_file=WeightsFile.from_params(snakemake.params.weights_file),
    )
