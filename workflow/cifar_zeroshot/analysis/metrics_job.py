"""The metrics job's numbers: every run's stored outputs and timing, scored by every configured
method on CIFAR-10 and the shifted test sets, and what the report derives from them.

Nothing is scored until the test set, the class mapping CSV, every run file and every scoring
method's file are shown to be the ones the configuration asks for (test_set_checks,
mapping.tables, analysis.verification, methods.interface.read_stored). report/metrics_job.py
writes the result.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cifar_zeroshot.analysis.balancing_tables import balancing_table, per_class_pooling_table
from cifar_zeroshot.analysis.evaluation import MethodResult
from cifar_zeroshot.analysis.few_shot import read_few_shot
from cifar_zeroshot.analysis.leaderboard import leaderboard_table
from cifar_zeroshot.analysis.metrics_tables import (
    MetricsTables,
    imagenet_name_list,
    reference_rows,
    tables_from_results,
)
from cifar_zeroshot.analysis.paired_tests import PairedTests, paired_tests
from cifar_zeroshot.analysis.reliability import reliability_table
from cifar_zeroshot.analysis.robustness import robustness_table
from cifar_zeroshot.analysis.test_set_results import methods_for_test_set, test_set_results
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.checksums import read_md5_sidecar
from cifar_zeroshot.data.test_set_checks import (
    ConfiguredTestSet,
    load_configured_test_set,
    read_test_set,
)
from cifar_zeroshot.data.test_sets import TEST_SETS, test_set
from cifar_zeroshot.mapping.imagenet_classes import all_imagenet_names
from cifar_zeroshot.mapping.tables import check_mapping_matches, read_mapping_csv
from cifar_zeroshot.mapping.yaml_file import load_mapping
from cifar_zeroshot.methods.interface import MethodInputs
from cifar_zeroshot.records.failed_run import FailedRun, read_failed_run


@dataclass(frozen=True)
class MetricsResults:
    """Everything the metrics job writes, computed."""

    tables: MetricsTables  # metrics.csv (every test set), per_class, confusion, top_confusions
    reference: pd.DataFrame  # metrics.csv's CIFAR-10 rows: the summary's table
    paired: PairedTests
    # Each test set's results ranked per method, with their significance letters.
    leaderboard: pd.DataFrame
    reliability: pd.DataFrame  # every scope's calibration bins
    robustness: pd.DataFrame  # empty without shifted test sets
    few_shot: pd.DataFrame | None  # the few-shot probes' rows; None without them
    balancing: pd.DataFrame  # the balanced methods' offsets (analysis/balancing_tables.py)
    per_class_poolings: pd.DataFrame  # per-class recall under each pooling, balanced or not
    # The test sets scored without balanced rows: their class prior is not known to be equal.
    unbalanced_sets: tuple[str, ...] = ()
    # The runs whose inference job failed (records.failed_run), in the plan's order: listed,
    # never scored.
    failed: tuple[FailedRun, ...] = ()


def _configured_test_sets(inputs: Any, params: Any) -> dict[str, ConfiguredTestSet]:
    """Each test set's images as its runs score them, checked as they load: CIFAR-10's against
    its archive's MD5 as well (the synthetic archive's is in its sidecar)."""
    # (Namedlist's `in` tests values, not names, hence .get.)
    sidecar = inputs.get("archive_md5")
    archive_md5 = read_md5_sidecar(sidecar) if sidecar is not None else params.archive_md5
    configured = {}
    for name, path, limit in zip(params.test_sets, inputs.images, params.limits, strict=True):
        if TEST_SETS[name].reference:
            configured[name] = load_configured_test_set(
                path, params.dataset, params.dataset_size, archive_md5, limit
            )
        else:
            configured[name] = read_test_set(path, limit)
    return configured


def _failure(files: tuple[str, str]) -> FailedRun | None:
    """The failure a run's files record, if its job failed (all of them record it then)."""
    return next(filter(None, map(read_failed_run, files)), None)


def _refuse_all_failed(failed: list[FailedRun]) -> UserError:
    listed = "; ".join(f"{f.model} {f.variant} on {f.test_set}: {f.error}" for f in failed[:5])
    more = f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
    return UserError(
        f"Every inference run failed, so there is nothing to score: {listed}{more}. Fix: see "
        "each run's log under logs/inference/, fix the cause, then rerun those jobs with "
        "`snakemake --forcerun` followed by their logits (or embeddings) files."
    )


def _results(
    inputs: Any, params: Any, method_inputs: MethodInputs
) -> tuple[list[MethodResult], list[FailedRun]]:
    """Every run of every test set scored, test set by test set (in params.test_sets order);
    and the runs whose job failed, which are not."""
    configured = _configured_test_sets(inputs, params)
    blocks = dict(zip(params.blocked, inputs.blocks, strict=True))
    probes = list(zip(map(tuple, params.probe_runs), inputs.probes, strict=True))
    runs = [tuple(run) for run in params.runs]
    files = list(zip(inputs.outputs, inputs.timing, strict=True))
    failures = [_failure(pair) for pair in files]
    results: list[MethodResult] = []
    for name in params.test_sets:
        ours = [n for n, run in enumerate(runs) if run[0] == name and failures[n] is None]
        if not ours:  # every run of this set failed: they are listed, not scored
            continue
        results += test_set_results(
            name,
            configured[name],
            [files[number] for number in ours],
            [params.requested[number] for number in ours],
            methods_for_test_set(method_inputs, name, probes),
            blocks.get(name),
            params.calibration_bins,
        )
    failed = [failure for failure in failures if failure is not None]
    if not results and failed:
        raise _refuse_all_failed(failed)
    return results, failed


def with_titles(
    tables: MetricsTables, test_set_titles: Mapping[str, str], weights_titles: Mapping[str, str]
) -> MetricsTables:
    """metrics.csv with what each row was made from, in words (the plan's titles)."""
    metrics = tables.metrics.copy()
    metrics["test_set_title"] = metrics["test_set"].map(dict(test_set_titles))
    metrics["weights_title"] = metrics["model"].map(dict(weights_titles))
    return dataclasses.replace(tables, metrics=metrics)


def compute_metrics(inputs: Any, params: Any) -> MetricsResults:
    """From the metrics rule's input and params (anything with their names as attributes and
    a ``get``, as a Snakemake job's are)."""
    groups, mapped_names = read_mapping_csv(inputs.mapping)
    check_mapping_matches(inputs.mapping, groups, mapped_names, load_mapping(inputs.mapping_yaml))
    # The scoring methods to evaluate every run with (see cifar_zeroshot.methods.interface); the
    # probe's files are looked up per test set (methods_for_test_set).
    method_inputs = MethodInputs(
        groups=groups,
        pooling=params.pooling,
        probe_request=params.probe_request,
        clip_text_files=dict(zip(params.clip_models, map(Path, inputs.clip_texts), strict=True)),
        clip_prompts=params.clip_prompts,
        clip_prompts_sha256=params.clip_prompts_sha256,
    )
    results, failed = _results(inputs, params, method_inputs)
    names = imagenet_name_list(all_imagenet_names(mapped_names))
    tables = with_titles(
        tables_from_results(results, names), params.test_set_titles, params.weights_titles
    )
    # Pairs on the same images (McNemar, Newcombe, Holm), on every test set and block, and the
    # calibration's bins of every scope.
    paired = paired_tests(results, params.paired_significance)
    # The weights' published ImageNet top-1 per model (a fraction, None where unknown).
    published_top1 = params.get("published_top1") or {}
    return MetricsResults(
        tables=tables,
        reference=reference_rows(tables.metrics),
        paired=paired,
        leaderboard=leaderboard_table(tables.metrics, paired.table, published_top1),
        reliability=reliability_table(results),
        robustness=robustness_table(tables.metrics),
        few_shot=read_few_shot(inputs.few_shot) if inputs.few_shot else None,
        balancing=balancing_table(results),
        per_class_poolings=per_class_pooling_table(results),
        unbalanced_sets=tuple(
            name for name in params.test_sets if not test_set(name).equal_class_prior
        ),
        failed=tuple(failed),
    )
