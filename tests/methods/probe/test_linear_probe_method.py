"""Tests for the linear probe's result file (probe_io), its scoring method and its plot."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from run_files import GROUPS, make_facts

from cifar_zeroshot.analysis.test_set_results import methods_for_test_set
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.interface import MethodInputs, RunOutputs
from cifar_zeroshot.methods.probe.method import LinearProbeMethod
from cifar_zeroshot.methods.probe.settings import ProbeRequest, ProbeSettings
from cifar_zeroshot.records.probe_scores import (
    PROBE_METADATA_KEY,
    ProbeRecord,
    read_probe_scores,
    write_probe_scores,
)
from cifar_zeroshot.report.probe_plot import probe_vs_zero_shot_figure

N = 20
RECORD = ProbeRecord(
    regularisation=0.001,
    validation_accuracy=0.75,
    regularisations=[0.1, 0.001],
    validation_accuracies=[0.5, 0.75],
    validation_fraction=0.2,
    max_iterations=100,
    seed=0,
    iterations=42,
    fit_seconds=3.5,
    train_images=1000,
    feature_width=512,
    train_images_per_second=250.0,
    train_host_peak_rss_bytes=2**30,
    train_torch_peak_allocated_bytes=None,
)

# What the configuration asks of the probe files: RECORD's settings, in another order.
REQUEST = ProbeRequest(ProbeSettings(0.2, (0.001, 0.1), 100, 0), 1000).to_params()


def _method(path, run=("resnet", "fp32"), request=REQUEST) -> LinearProbeMethod | None:
    """The method as the metrics job builds it, with ``path`` as the probe file of ``run``."""
    inputs = MethodInputs(GROUPS, "max_logit", probe_files={run: path}, probe_request=request)
    return LinearProbeMethod.configured(inputs)


def _run(labels: np.ndarray) -> RunOutputs:
    facts = make_facts("resnet", "fp32", image_count=len(labels))
    logits = np.zeros((len(labels), 1000), np.float32)
    return RunOutputs(facts, np.arange(len(labels)), labels, logits)


@pytest.fixture
def probe_file(tmp_path):
    labels = np.arange(N) % 10
    order = np.random.default_rng(1).permutation(N)  # stored in another order than the run
    scores = np.eye(10, dtype=np.float32)[labels]
    scores[:3] = np.eye(10, dtype=np.float32)[(labels[:3] + 1) % 10]  # three wrong answers
    path = tmp_path / "probe" / "resnet" / "fp32.parquet"
    path.parent.mkdir(parents=True)
    facts = make_facts("resnet", "fp32", image_count=N)
    write_probe_scores(path, facts, (order, labels[order], scores[order]), RECORD)
    return path, labels, scores


def test_probe_file_round_trip(probe_file):
    table = read_probe_scores(probe_file[0])
    assert table.record == RECORD and table.facts == make_facts(image_count=N)
    assert sorted(table.rows.image_index) == list(range(N))


def test_the_method_aligns_the_scores_with_the_run_and_reports_the_fit(probe_file):
    path, labels, scores = probe_file
    method = _method(path)
    run = _run(labels)
    assert method.applies_to(run)
    assert not method.applies_to(dataclasses.replace(run, facts=make_facts("vit")))
    result = method.score(run)
    np.testing.assert_array_equal(result.scores, scores)
    assert result.settings == {"probe_regularisation": "0.001"}
    figures = dict(result.figures)
    assert np.isnan(figures.pop("probe_train_torch_peak_allocated_mb"))  # a CPU job
    assert figures == {
        "probe_validation_top1": 0.75,
        "probe_train_images": 1000.0,
        "probe_fit_seconds": 3.5,
        "probe_train_images_per_second": 250.0,
        "probe_train_host_peak_rss_mb": 1024.0,
    }


def test_a_probe_of_another_run_is_refused(probe_file):
    path, labels, _ = probe_file
    method = _method(path)
    other = dataclasses.replace(_run(labels), facts=make_facts(image_count=N, batch_size=16))
    with pytest.raises(UserError, match="fitted on features of another run"):
        method.score(other)
    relabelled = _run(np.roll(labels, 1))
    with pytest.raises(UserError, match="scores other images or labels than the run's logits"):
        method.score(relabelled)


def test_a_cifar10_c_block_of_the_run_gets_the_probes_scores_of_its_own_images(probe_file):
    # analysis.test_set_results scores CIFAR-10-C one block at a time: the run's rows of a block.
    path, labels, scores = probe_file
    run = _run(labels)
    rows = np.arange(5, 15)
    block = dataclasses.replace(
        run, image_index=run.image_index[rows], labels=labels[rows], logits=run.logits[rows]
    )
    np.testing.assert_array_equal(_method(path).score(block).scores, scores[rows])
    # An image the probe did not score (here: past its last one) is still refused.
    outside = dataclasses.replace(block, image_index=block.image_index + N - 10)
    with pytest.raises(UserError, match="scores other images or labels than the run's logits"):
        _method(path).score(outside)


def test_each_shifted_set_is_scored_from_its_own_probe_files(probe_file, tmp_path):
    path = probe_file[0]
    inputs = MethodInputs(GROUPS, "max_logit", probe_request=REQUEST)
    files = [(("cifar10.1", "resnet", "fp32"), str(path))]
    methods = {
        name: methods_for_test_set(inputs, name, files) for name in ("cifar10.1", "cifar10-c")
    }
    probes = [m for m in methods["cifar10.1"] if m.name == "linear_probe"]
    assert len(probes) == 1 and probes[0].probes[("resnet", "fp32")][0] == path
    # Another set's probe file is never handed to a set's method.
    assert "linear_probe" not in [m.name for m in methods["cifar10-c"]]


def _rewrite(path, facts=None, **record_changes):
    """The probe file at ``path`` as if fitted with other facts or settings."""
    table = read_probe_scores(path)
    rows = (table.rows.image_index, table.rows.labels, table.rows.values)
    record = dataclasses.replace(table.record, **record_changes)
    write_probe_scores(path, facts or table.facts, rows, record)


def _refusal(path, wrong: str) -> str:
    return (
        f"{path} is not the linear probe the configuration asks for: {wrong}. It comes from "
        "another run (a file copied, restored or edited), so metrics from it would not describe "
        f"this configuration. Fix: rerun that job with `snakemake --forcerun {path}` (with your "
        f"usual --configfile/--config), or delete {path} and rerun snakemake."
    )


def test_the_method_is_off_without_probe_files():
    assert LinearProbeMethod.configured(MethodInputs(GROUPS, "max_logit")) is None


@pytest.mark.parametrize(
    ("changes", "wrong"),
    [
        # Issue 24: fitted with [1000.0], put back into a run configured with another grid.
        (
            {"regularisations": [1000.0], "regularisation": 1000.0},
            "regularisations is [1000.0], expected [0.1, 0.001]",
        ),
        ({"validation_fraction": 0.5}, "validation_fraction is 0.5, expected 0.2"),
        ({"max_iterations": 7}, "max_iterations is 7, expected 100"),
        (
            {"seed": 3, "train_images": 500},
            "seed is 3, expected 0; train_images is 500, expected 1000",
        ),
    ],
)
def test_a_probe_fitted_under_other_settings_is_refused(probe_file, changes, wrong):
    path = probe_file[0]
    _rewrite(path, **changes)
    with pytest.raises(UserError) as caught:
        _method(path)
    assert str(caught.value) == _refusal(path, wrong)


def test_another_runs_probe_in_this_runs_file_is_refused(probe_file):
    # Keyed by what it holds, it used to be silently left out: the run got no probe row.
    path = probe_file[0]
    _rewrite(path, make_facts("vit", "bf16", image_count=N))
    with pytest.raises(UserError) as caught:
        _method(path)
    assert str(caught.value) == _refusal(
        path, "model is 'vit', expected 'resnet'; variant is 'bf16', expected 'fp32'"
    )


def test_a_probe_record_with_other_fields_is_refused(probe_file):
    path = probe_file[0]
    table = pq.read_table(path)
    metadata = dict(table.schema.metadata)
    metadata[PROBE_METADATA_KEY] = b'{"regularisation": 0.1}'
    pq.write_table(table.replace_schema_metadata(metadata), path)
    match = "records a probe record in another layout than this workflow writes .missing: "
    with pytest.raises(UserError, match=match):
        read_probe_scores(path)


def test_probe_plot_shows_both_methods_per_probed_run_with_intervals():
    def row(model, method, top1):
        return {"model": model, "variant": "fp32", "method": method, "top1": top1}

    metrics = pd.DataFrame(
        [
            row("alexnet", "class_mapping", 0.3),
            row("alexnet", "linear_probe", 0.8),
            row("squeezenet1_1", "class_mapping", 0.2),  # not probed: not drawn
        ]
    )
    metrics["top1_ci_low"] = metrics["top1"] - 0.05
    metrics["top1_ci_high"] = metrics["top1"] + 0.05
    figure = probe_vs_zero_shot_figure(metrics)
    ax = figure.axes[0]
    assert [tick.get_text() for tick in ax.get_yticklabels()] == ["alexnet · fp32"]
    widths = sorted(round(patch.get_width(), 6) for patch in ax.patches)
    assert widths == [30.0, 80.0]
    assert {text.get_text() for text in ax.texts} == {"30.0", "80.0"}


def test_a_shifted_sets_probe_under_other_settings_names_the_kept_fit(probe_file):
    # Rerunning the shifted set's file alone would apply the same stale fit again.
    path = probe_file[0]
    _rewrite(path, seed=3)
    inputs = MethodInputs(GROUPS, "max_logit", probe_request=REQUEST)
    fit = Path("results/probe/resnet/fp32.fit.npz")
    with pytest.raises(UserError) as caught:
        methods_for_test_set(inputs, "cifar10.1", [(("cifar10.1", "resnet", "fp32"), path)])
    assert str(caught.value) == (
        f"{path} is not the linear probe the configuration asks for: seed is 3, expected 0. It "
        f"was computed from {fit}, which is left from another run or settings (restored or "
        "copied), so rerunning it alone repeats this. Fix: refit with `snakemake --forcerun "
        f"{fit}` (with your usual --configfile/--config), or delete {fit} and rerun snakemake."
    )
