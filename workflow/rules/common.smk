# Set-up shared by every stage: the package path, the configuration (defaults, command-line
# values, validation), the job plan, and the input function that checks an ONNX export before
# a job reads it. Included first by the Snakefile.
import os
import re
import sys
from datetime import datetime
from pathlib import Path

from snakemake.utils import validate

# The package the scripts call lives in workflow/: importable here and, through PYTHONPATH, in
# every job's script (also in --use-conda environments and cluster jobs, which lack the install).
PACKAGE_DIR = str(Path(workflow.basedir) / "workflow")
sys.path.insert(0, PACKAGE_DIR)
os.environ.update(
    PYTHONPATH=os.pathsep.join([PACKAGE_DIR, *filter(None, [os.environ.get("PYTHONPATH")])])
)

from cifar_zeroshot.config.schema import (
    check_against_schema,
    coerce_command_line_values,
    load_config_file,
)
from cifar_zeroshot.config.planning import dataset_size, plan_workflow
from cifar_zeroshot.config.published_tables import fetch_timm_results
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.runtimes.onnx_file import exported_inputs, remove_damaged_exports
from cifar_zeroshot.data.image_set import ImageSet
from cifar_zeroshot.data.test_set_checks import check_built_image_set
from cifar_zeroshot.config.workspace import (
    LOGITS_BYTES_PER_IMAGE,
    check_cuda_for_local_jobs,
    check_free_space,
    check_output_folders,
    kept_intermediate_files,
    scored_images,
)
from cifar_zeroshot.config.live_run import (
    RUN_RECORD,
    clear_live_run,
    live_run_note,
    record_live_run,
)
from cifar_zeroshot.config.results_layout import (
    move_previous_layout,
    remove_outputs_not_asked_for,
)
from cifar_zeroshot.core.choices import REFERENCE_TEST_SET
from cifar_zeroshot.core.paths import (
    CORRUPTION_SEVERITY_PLOT,
    blocks_table_path,
    clip_text_path,
    few_shot_path,
    inference_log_path,
    probe_fit_path,
    probe_scores_path,
    run_output_path,
    test_features_path,
    test_images_path,
    timing_path,
    train_features_path,
    train_images_path,
    train_timing_path,
)
from cifar_zeroshot.data.test_sets import TEST_SETS, test_set as test_set_entry

SCHEMA = Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"

try:
    # The default configuration, under whatever --configfile/--config gave (those win). Read
    # here rather than with `configfile:` so that a YAML mistake is reported with its line.
    for key, value in load_config_file("config/config.yaml").items():
        config.setdefault(key, value)
    config.update(coerce_command_line_values(config, SCHEMA))
    # Every bad key at once, each with its allowed values; then the schema fills the defaults.
    check_against_schema(config, SCHEMA)
    validate(config, str(SCHEMA))
    if workflow.is_main_process:
        # timm's published table, which planning reads (max_params_m, published top-1): into
        # its cache under data/ where the models need it; a job's process reads that cache.
        fetched = fetch_timm_results(config)
        if fetched is not None:
            print(f"{fetched.level}: {fetched.text}", file=sys.stderr)
    PLAN = plan_workflow(config)
    # Where the jobs write: refused now rather than after Snakemake deleted older outputs.
    check_output_folders(["data", f"data/{config['dataset']}", "results", "logs"])
    # Every run of every test set: CIFAR-10-C's logits can be many times CIFAR-10's.
    check_free_space("results", scored_images(PLAN) * LOGITS_BYTES_PER_IMAGE)
    # A test (or, for the probe, training) set already built but cut, truncated, hand-made or
    # from another archive: no rule replaces it.
    image_sets = ({"test_set": ImageSet.TEST} if PLAN.test_sets.has_reference else {}) | (
        {"train_set": ImageSet.TRAINING} if PLAN.probe_runs or PLAN.calibrates_on_training else {}
    )
    for name, kind in image_sets.items():
        check_built_image_set(
            f"data/{config['dataset']}/{name}.npz", kind, config["dataset"], dataset_size(config)
        )
except UserError as error:
    # One clear message, without a Snakemake stack in front of it.
    sys.exit(f"ERROR: {error}")

MODEL_RUNS = PLAN.model_runs  # (model, variant) pairs: one inference job per test set each
MODEL_WEIGHTS = PLAN.model_weights
PROBE_RUNS = PLAN.probe_runs  # (model, variant) pairs with features and a linear probe
# Rule all asks for these by name, so that a plain rerun rebuilds any of them that is missing.
KEPT_FILES = kept_intermediate_files(PLAN, config["dataset"])
# The test sets asked for, as a wildcard constraint; CIFAR-10's own (the probe is fitted on it).
TEST_SET_PATTERN = "|".join(map(re.escape, PLAN.test_sets.test_sets))
REFERENCE = REFERENCE_TEST_SET
# Every registered set beside CIFAR-10: the probe fitted on CIFAR-10 scores their features.
SHIFTED_SET_PATTERN = "|".join(re.escape(name) for name in TEST_SETS if name != REFERENCE)
# Exactly the probed models and variants, as wildcard constraints (names are plain identifiers
# and variant names, so no escaping is needed beyond re.escape's).
PROBED_MODEL_PATTERN = "|".join(map(re.escape, PLAN.probed_models))
PROBE_VARIANT_PATTERN = "|".join(map(re.escape, PLAN.probe_variants))
# The models the probe alone scores (a timm head that is not ImageNet-1k's): features, no logits.
PROBE_ONLY_MODEL_PATTERN = "|".join(map(re.escape, PLAN.probe_only_models))
if workflow.is_main_process:
    # A results folder of the layout without a test-set folder for CIFAR-10: moved, told once.
    for message in move_previous_layout("results", set(TEST_SETS), dry_run=workflow.dryrun):
        print(f"NOTE: {message}", file=sys.stderr)
    for reason in PLAN.unprobed_reasons:
        print(f"WARNING: {reason}", file=sys.stderr)
    for reason in PLAN.unmapped_reasons:
        print(f"WARNING: {reason}", file=sys.stderr)
    for note in PLAN.test_sets.notes:
        print(f"WARNING: {note}", file=sys.stderr)
    for note in PLAN.collection_notes:
        print(f"NOTE: {note}", file=sys.stderr)

_CHECKED_EXPORTS = set()
FP32_ONNXRUNTIME = Variant(runtime="onnxruntime")  # the variant that runs the fp32 export


def test_images(wildcards):
    """The image set a run scores: its test set's, from the registry."""
    return test_set_entry(wildcards.test_set).images_path(config["dataset"])


def _deleting_damaged(inputs):
    """``inputs`` (exported_inputs), its ONNX file deleted first where damaged.

    A damaged export (size or digest unlike its record) is deleted while Snakemake builds the job
    graph, before it looks at which files exist, so the export is planned again first. Only when
    jobs will run: a dry run (or --summary, --dag) says so and changes nothing. Never in a job's
    own process (cluster jobs parse this file too), which may run beside an export.
    """
    if inputs and workflow.is_main_process and inputs["onnx"] not in _CHECKED_EXPORTS:
        _CHECKED_EXPORTS.add(inputs["onnx"])
        runs_jobs = workflow.executor_plugin is not None and not (workflow.dryrun or workflow.touch)
        for message in remove_damaged_exports([Path(inputs["onnx"])], dry_run=not runs_jobs):
            print(f"WARNING: {message}", file=sys.stderr)
    return inputs


def checked_export_inputs(wildcards):
    """An inference job's inputs from the export (or quantise) rule, none on torch; a damaged
    file dealt with (_deleting_damaged)."""
    return _deleting_damaged(exported_inputs(wildcards.model, Variant.parse(wildcards.variant)))


def checked_source_export(wildcards):
    """The quantise job's input: the model's fp32 export, a damaged one dealt with."""
    return _deleting_damaged(exported_inputs(wildcards.model, FP32_ONNXRUNTIME))


# Another run alive in this folder: said before Snakemake's lock refusal, whose advice
# (--unlock, --rerun-incomplete) would let two runs write the same files.
if workflow.is_main_process:
    _LIVE_RUN = live_run_note(RUN_RECORD, os.getpid())
    if _LIVE_RUN:
        print(f"WARNING: {_LIVE_RUN}", file=sys.stderr)


onstart:
    # Only now is it known whether jobs run on this host (not on a cluster's nodes), and no job
    # has started, so no older output has been deleted yet.
    try:
        check_cuda_for_local_jobs(config["device"], workflow.local_exec)
    except UserError as error:
        sys.exit(f"ERROR: {error}")
    # Snakemake holds the folder's lock now: this run is the live one.
    record_live_run(RUN_RECORD, os.getpid(), datetime.now().isoformat(timespec="seconds"))


onsuccess:
    clear_live_run(RUN_RECORD, os.getpid())


onerror:
    clear_live_run(RUN_RECORD, os.getpid())


def removed_stale_summaries(wildcards):
    """No input: removes, once, every table or figure over all runs that this configuration does
    not ask for (the robustness files without a shifted set, the probe's figures without the
    probe...), so none is left beside the current files as if it were one of them. Called while
    the job graph is built, when a dry run is known (it then only says so), before any job runs.
    """
    if workflow.is_main_process and not _SUMMARIES_CHECKED:
        _SUMMARIES_CHECKED.append(True)
        summaries = [CORRUPTION_SEVERITY_PLOT] + [
            str(path)
            for rule_ in workflow.rules
            for path in rule_.output
            if str(path).startswith("results/") and not path.contains_wildcard()
        ]
        asked = [str(path) for path in rules.all.input if isinstance(path, str)]
        keep = workflow.executor_plugin is None or workflow.dryrun or workflow.touch
        for message in remove_outputs_not_asked_for(summaries, asked, dry_run=keep):
            print(f"NOTE: {message}", file=sys.stderr)
    return []


_SUMMARIES_CHECKED = []
