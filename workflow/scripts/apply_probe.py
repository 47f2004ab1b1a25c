"""Snakemake adapter: the probe fitted on CIFAR-10 + a shifted test set's features -> that set's
linear-probe scores (the probe is never refitted on a shifted set)."""

from pathlib import Path

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.methods.probe.job import ShiftedProbeInputs, apply_stored_probe

with job_log(snakemake.log[0], snakemake.output):
    inputs = snakemake.input
    apply_stored_probe(
        ShiftedProbeInputs(
            probe_fit=Path(inputs.probe_fit),
            features=Path(inputs.features),
            timing=Path(inputs.timing),
            reference_scores=Path(inputs.reference_scores),
            reference_features=Path(inputs.reference_features),
        ),
        snakemake.output[0],
    )
