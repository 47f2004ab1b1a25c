"""Snakemake adapter: check the class mapping YAML and write its CSVs (rule class_mapping)."""

import sys

from cifar_zeroshot.mapping import (
    load_mapping,
    mapping_warnings,
    write_mapping_csv,
    write_mapping_summary,
)
from cifar_zeroshot.script_support import run_reporting_user_errors


def main(mapping_path: str, csv_path: str, summary_path: str, log_path: str) -> None:
    mapping = load_mapping(mapping_path)
    lines = [f"class mapping {mapping_path}: {mapping.member_count} ImageNet classes mapped"]
    for mapped in mapping.classes:
        ancestors = ", ".join(f"{a.wnid} ({a.lemma.split(',')[0]})" for a in mapped.ancestors)
        lines.append(
            f"  {mapped.label} {mapped.name}: pools {len(mapped.indices)} ImageNet "
            + ("class" if len(mapped.indices) == 1 else "classes")
            + (f" under {ancestors}" if ancestors else "")
        )
    warnings = [f"WARNING: {w}" for w in mapping_warnings(mapping)]
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("\n".join(lines + warnings) + "\n")
    for warning in warnings:
        print(warning, file=sys.stderr)
    write_mapping_csv(mapping, csv_path)
    write_mapping_summary(mapping, summary_path)


run_reporting_user_errors(
    lambda: main(
        snakemake.input.mapping,
        snakemake.output.mapping,
        snakemake.output.summary,
        snakemake.log[0],
    ),
    snakemake.log[0],
)
