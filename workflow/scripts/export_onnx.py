"""Snakemake adapter: one model and its weights -> the ONNX file and its record."""

import logging
from contextlib import redirect_stdout
from pathlib import Path

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.inference.export_job import export_model
from cifar_zeroshot.models.weights_file import WeightsFile
from cifar_zeroshot.runtimes.device_setup import set_threads

with job_log(snakemake.log[0], snakemake.output) as stream, redirect_stdout(stream):
    # The exporter reports its steps on stdout, which belongs in the job's log; its graph
    # optimisers log every pass at INFO, which does not.
    for name in ("onnxscript", "onnx_ir"):
        logging.getLogger(name).setLevel(logging.WARNING)
    set_threads(snakemake.threads)
    export_model(
        snakemake.wildcards.model,
        snakemake.params.weights,
        Path(snakemake.output.model),
        weights_file=WeightsFile.from_params(snakemake.params.weights_file),
    )
