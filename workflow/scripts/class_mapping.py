"""Snakemake adapter: check the class mapping YAML and write its CSVs (rule class_mapping)."""

import logging

from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.mapping.definition import mapping_description, mapping_warnings
from cifar_zeroshot.mapping.tables import write_mapping_csv, write_mapping_summary
from cifar_zeroshot.mapping.yaml_file import load_mapping

log = logging.getLogger(__name__)

with job_log(snakemake.log[0], snakemake.output):
    mapping = load_mapping(snakemake.input.mapping)
    for line in mapping_description(mapping):
        log.info(line)
    for warning in mapping_warnings(mapping):
        log.warning(warning)  # also on the terminal: the user should see a fragile class
    write_mapping_csv(mapping, snakemake.output.mapping)
    write_mapping_summary(mapping, snakemake.output.summary)
