"""Snakemake adapter: stored logits + timing -> metrics CSVs and results/summary.md."""

from cifar_zeroshot.class_mapping_method import ClassMappingMethod
from cifar_zeroshot.imagenet_classes import all_imagenet_names
from cifar_zeroshot.job_log import job_log
from cifar_zeroshot.mapping_tables import read_mapping_csv
from cifar_zeroshot.metrics_tables import build_tables
from cifar_zeroshot.summary import write_summary_markdown

with job_log(snakemake.log[0], snakemake.output):
    groups, mapped_names = read_mapping_csv(snakemake.input.mapping)
    # The scoring methods to evaluate every run with (see cifar_zeroshot.scoring_method).
    methods = [ClassMappingMethod(groups, snakemake.params.pooling)]
    runs = list(zip(snakemake.input.logits, snakemake.input.timing, strict=True))
    tables = build_tables(runs, methods, all_imagenet_names(mapped_names))
    out = snakemake.output
    tables.write(out.metrics, out.per_class, out.confusion, out.top_confusions)
    write_summary_markdown(tables.metrics, out.summary)
