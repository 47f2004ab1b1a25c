"""The metrics job's numbers: every run's stored outputs and timing, scored by every configured
method on CIFAR-10 and the shifted test sets, and what the report derives from them.

Nothing is scored until the test set, the class mapping CSV, every run file and every scoring
method's file are shown to be the ones the configuration asks for (test_set_checks,
mapping.tables, analysis.verification, methods.interface.read_stored). report/metrics_job.py
writes the result.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cifar_zeroshot.analysis.evaluation import read_runs, score_runs
from cifar_zeroshot.analysis.few_shot import read_few_shot
from cifar_zeroshot.analysis.metrics_tables import (
    MetricsTables,
    imagenet_name_list,
    tables_from_results,
)
from cifar_zeroshot.analysis.paired_tests import PairedTests, paired_tests
from cifar_zeroshot.analysis.reliability import reliability_table
from cifar_zeroshot.analysis.robustness import robustness_table
from cifar_zeroshot.analysis.shifted_metrics import (
    methods_per_shifted_set,
    reference_rows,
    shifted_metrics_tables,
)
from cifar_zeroshot.analysis.verification import run_checks
from cifar_zeroshot.data.checksums import read_md5_sidecar
from cifar_zeroshot.data.test_set_checks import load_configured_test_set
from cifar_zeroshot.mapping.imagenet_classes import all_imagenet_names
from cifar_zeroshot.mapping.tables import check_mapping_matches, read_mapping_csv
from cifar_zeroshot.mapping.yaml_file import load_mapping
from cifar_zeroshot.methods.interface import MethodInputs
from cifar_zeroshot.methods.registry import configured_methods


@dataclass(frozen=True)
class MetricsResults:
    """Everything the metrics job writes, computed."""

    tables: MetricsTables  # metrics.csv (every test set), per_class, confusion, top_confusions
    reference: pd.DataFrame  # metrics.csv's CIFAR-10 rows: the summary's table
    paired: PairedTests
    reliability: pd.DataFrame  # CIFAR-10's calibration bins
    robustness: pd.DataFrame  # empty without shifted test sets
    few_shot: pd.DataFrame | None  # the few-shot probes' rows; None without them


def compute_metrics(inputs: Any, params: Any) -> MetricsResults:
    """From the metrics rule's input and params (anything with their names as attributes and
    a ``get``, as a Snakemake job's are)."""
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
    # Pairs on the same images (McNemar, Newcombe, Holm), on every test set, and the
    # calibration's bins (CIFAR-10's: the reliability diagram's).
    return MetricsResults(
        tables=tables,
        reference=reference_rows(tables.metrics),
        paired=paired_tests([*results, *shifted], params.paired_significance),
        reliability=reliability_table(results),
        robustness=robustness_table(tables.metrics),
        few_shot=read_few_shot(inputs.few_shot) if inputs.few_shot else None,
    )
