"""Snakemake adapter: stored logits + timing -> metrics CSVs and results/summary.md."""

from cifar_zeroshot import metrics
from cifar_zeroshot.script_support import run_reporting_user_errors
from cifar_zeroshot.summary import write_summary_markdown


def main() -> None:
    groups, mapped_names = metrics.read_mapping_csv(snakemake.input.mapping)
    runs = list(zip(snakemake.input.logits, snakemake.input.timing, strict=True))
    tables = metrics.build_tables(
        runs, groups, metrics.all_imagenet_names(mapped_names), snakemake.params.pooling
    )
    out = snakemake.output
    tables.write(out.metrics, out.per_class, out.confusion, out.top_confusions)
    write_summary_markdown(tables.metrics, out.summary)


run_reporting_user_errors(main, snakemake.log[0])
