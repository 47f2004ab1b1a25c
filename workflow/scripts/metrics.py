"""Snakemake adapter: stored run outputs + timing -> metrics CSVs and results/summary.md.

Nothing is scored until the test set, the class mapping CSV, every run file and every scoring
method's file are shown to be the ones the configuration asks for (test_set_checks,
mapping.tables, analysis.verification, methods.interface.read_stored).
"""

from pathlib import Path

from cifar_zeroshot.analysis.evaluation import read_runs, score_runs
from cifar_zeroshot.analysis.few_shot import read_few_shot
from cifar_zeroshot.analysis.metrics_tables import imagenet_name_list, tables_from_results
from cifar_zeroshot.analysis.paired_tests import paired_tests
from cifar_zeroshot.analysis.reliability import reliability_table
from cifar_zeroshot.analysis.robustness import robustness_table
from cifar_zeroshot.analysis.shifted_metrics import (
    methods_per_shifted_set,
    reference_rows,
    shifted_metrics_tables,
)
from cifar_zeroshot.analysis.verification import run_checks
from cifar_zeroshot.core.csv_output import write_csv
from cifar_zeroshot.core.job_log import job_log
from cifar_zeroshot.data.checksums import read_md5_sidecar
from cifar_zeroshot.data.test_set_checks import load_configured_test_set
from cifar_zeroshot.mapping.imagenet_classes import all_imagenet_names
from cifar_zeroshot.mapping.tables import check_mapping_matches, read_mapping_csv
from cifar_zeroshot.mapping.yaml_file import load_mapping
from cifar_zeroshot.methods.interface import MethodInputs
from cifar_zeroshot.methods.registry import configured_methods
from cifar_zeroshot.report.few_shot import few_shot_summary_lines
from cifar_zeroshot.report.html_pages import sections_html, write_html
from cifar_zeroshot.report.paired_section import paired_summary_lines
from cifar_zeroshot.report.provenance import provenance_note
from cifar_zeroshot.report.robustness_section import robustness_section_lines
from cifar_zeroshot.report.summary import write_summary_markdown

with job_log(snakemake.log[0], snakemake.output):
    inputs, params = snakemake.input, snakemake.params
    # The synthetic archive's MD5 is in its sidecar; the real one's is a constant.
    # (Namedlist's `in` tests values, not names, hence .get.)
    sidecar = inputs.get("archive_md5")
    archive_md5 = read_md5_sidecar(sidecar) if sidecar is not None else params.archive_md5
    test_set = load_configured_test_set(
        inputs.test_set, params.dataset, params.dataset_size, archive_md5, params.limit
    )
    runs = list(zip(inputs.outputs, inputs.timing, strict=True))
    # First, before torchvision is imported for the mapping's names (seconds).
    stored = read_runs(runs, run_checks(runs, params.requested, test_set))
    groups, mapped_names = read_mapping_csv(inputs.mapping)
    check_mapping_matches(inputs.mapping, groups, mapped_names, load_mapping(inputs.mapping_yaml))
    # The scoring methods to evaluate every run with (see cifar_zeroshot.methods.interface);
    # each method file under the run or model the rule lists it for.
    method_inputs = MethodInputs(
        groups=groups,
        pooling=params.pooling,
        probe_files=dict(zip(map(tuple, params.probe_runs), map(Path, inputs.probes), strict=True)),
        probe_request=params.probe_request,
        clip_text_files=dict(zip(params.clip_models, map(Path, inputs.clip_texts), strict=True)),
        clip_prompts=params.clip_prompts,
        clip_prompts_sha256=params.clip_prompts_sha256,
    )
    methods = configured_methods(method_inputs)
    # Each shifted set's: the same, with that set's probe files.
    shifted_methods = methods_per_shifted_set(
        method_inputs,
        params.shifted_sets,
        list(zip(map(tuple, params.shifted_probe_runs), inputs.shifted_probes, strict=True)),
    )
    results = score_runs(stored, methods, params.calibration_bins)
    names = imagenet_name_list(all_imagenet_names(mapped_names))
    # The shifted test sets' rows after CIFAR-10's (none without them in test_sets).
    tables, shifted = shifted_metrics_tables(
        tables_from_results(results, names),
        shifted_methods,
        dict(zip(params.shifted_sets, inputs.shifted_images, strict=True)),
        list(zip(params.shifted_runs, inputs.shifted_outputs, inputs.shifted_timing, strict=True)),
        params.shifted_requested,
        params.shift_limit,
        inputs.shifted_blocks[0] if inputs.shifted_blocks else None,
        params.calibration_bins,
    )
    out = snakemake.output
    tables.write(out.metrics, out.per_class, out.confusion, out.top_confusions)
    # Pairs on the same images (McNemar, Newcombe, Holm), on every test set, and the
    # calibration's bins (CIFAR-10's: the reliability diagram's).
    paired = paired_tests([*results, *shifted], params.paired_significance)
    write_csv(paired.table, out.paired_tests)
    write_csv(reliability_table(results), out.reliability)
    reference = reference_rows(tables.metrics)
    sections = [paired_summary_lines(paired.table, paired.unpaired, paired.significance)]
    if inputs.few_shot:
        few_shot = read_few_shot(inputs.few_shot)
        sections.append(few_shot_summary_lines(few_shot, reference))
    # With shifted test sets: the robustness table after CIFAR-10's summary.
    robustness = robustness_section_lines(
        robustness_table(tables.metrics), provenance_note(tables.metrics)
    )
    write_summary_markdown(reference, out.summary, sections, [robustness])
    write_html(sections_html(sections, provenance_note(tables.metrics)), out.statistics)
