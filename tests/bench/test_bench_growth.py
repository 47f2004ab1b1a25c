"""bench/growth.py's building blocks: the synthetic runs it writes are read as inference's are
and pass the metrics job's checks; each child's peak RSS is its own; the growth ratios."""

import dataclasses
import importlib.util
import math
import sys
import time

import numpy as np
import pandas as pd
import pytest
from workflow_runner import REPO

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.records.logits import read_logits, read_timing

SCRIPT = REPO / "bench" / "growth.py"


@pytest.fixture(scope="module")
def growth():
    spec = importlib.util.spec_from_file_location("growth", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["growth"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def workspace(growth, tmp_path_factory):
    """Two synthetic runs of 40 images in a copy of the workflow, as the script prepares them."""
    workdir = tmp_path_factory.mktemp("growth")
    growth.prepare_workspace(workdir, runs=2, images_per_class=4, coarse=False)
    return workdir


def test_synthetic_runs_are_read_back_with_the_facts_the_metrics_expect(growth, workspace):
    config, plan = growth.workspace_plan(workspace)
    assert len(plan.runs) == 2
    requested = growth.requested_runs(plan, config)
    labels = None
    for run, wanted in zip(plan.runs, requested, strict=True):
        table = read_logits(workspace / plan.run_output_path(*run))
        timing = read_timing(workspace / growth.timing_path(*run))
        assert table.logits.shape == (40, 1000)
        assert table.logits.dtype == np.float32
        np.testing.assert_array_equal(np.sort(table.image_index), np.arange(40))
        for name in ("model", "weights", "variant", "dataset", "limit", "weights_sha256"):
            assert getattr(table.facts, name) == wanted[name]
        assert table.facts == timing.facts
        assert timing.summary.timed_images == 40
        labels = table.labels if labels is None else labels
        np.testing.assert_array_equal(table.labels, labels)  # the same test set's labels


def test_the_metrics_job_scores_the_synthetic_runs_and_pairs_them(growth, workspace):
    timed = growth.run_metrics_job(workspace)
    metrics = pd.read_csv(workspace / "results" / "metrics.csv")
    results = len(metrics)  # every run under every method
    assert set(metrics["model"]) == {
        "timm-" + name.removeprefix("timm:") for name in growth.timm_model_names(2)
    }
    assert results >= 2
    # Every result paired with every other: they were all scored on the same images.
    assert timed["pairs"] == math.comb(results, 2)
    assert len(pd.read_csv(workspace / "results" / "paired_tests.csv")) == timed["pairs"]
    assert timed["seconds"] >= 0
    assert timed["rss_after"] >= timed["rss_before"] > 0


def test_a_run_with_other_facts_is_refused_by_the_metrics_job(growth, workspace):
    """The script's runs pass the metrics job's checks because their facts are right, not
    because nothing is checked."""
    _, plan = growth.workspace_plan(workspace)
    run = plan.runs[0]
    logits_path, timing_file = (
        workspace / plan.run_output_path(*run),
        workspace / growth.timing_path(*run),
    )
    table = read_logits(logits_path)
    labels = table.labels[np.argsort(table.image_index)]  # in image order
    groups = [np.array([10 * k]) for k in range(10)]
    wrong = dataclasses.replace(table.facts, test_set_sha256="0" * 64)
    growth.write_synthetic_run(logits_path, timing_file, wrong, labels, groups, 0, coarse=False)
    try:
        with pytest.raises(UserError, match="is not the run the configuration asks for"):
            growth.run_metrics_job(workspace)
    finally:  # the workspace is the module's: its run as it was
        growth.write_synthetic_run(
            logits_path, timing_file, table.facts, labels, groups, 0, coarse=False
        )


def test_coarse_logits_take_few_values_and_keep_the_true_class_ahead(growth):
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    groups = [np.array([10 * k, 10 * k + 1]) for k in range(10)]
    logits = growth.synthetic_logits(rng, labels, groups, share_right=1.0, coarse=True)
    assert logits.dtype == np.float32
    assert len(np.unique(logits)) <= 16  # multiples of 0.5 in [-2, 5.5]
    np.testing.assert_array_equal(logits * 2, np.round(logits * 2))
    pooled = np.stack([logits[:, group].max(axis=1) for group in groups], axis=1)
    assert (pooled.argmax(axis=1) == labels).mean() > 0.9


def test_each_child_reports_its_own_peak_rss(growth, tmp_path):
    big = "import numpy as np; a = np.ones(300 * 2**20, np.uint8); a.sum()"
    large = growth.run_measured([sys.executable, "-c", big], tmp_path)
    # This process holds 400 MB while the small child runs: a child forked from it directly
    # would report them as its own (its RSS before exec counts).
    ballast = np.ones(400 * 2**20, np.uint8)
    small = growth.run_measured([sys.executable, "-c", "pass"], tmp_path)
    assert int(ballast[-1]) == 1
    assert large.peak_rss_bytes > 300 * 2**20
    assert small.peak_rss_bytes < 100 * 2**20  # neither the large child's nor ours carries over
    assert small.seconds > 0


def test_a_child_past_the_memory_cap_is_stopped(growth, tmp_path):
    grows = "import numpy as np, time; a = np.ones(600 * 2**20, np.uint8); time.sleep(30)"
    started = time.perf_counter()
    with pytest.raises(growth.StepStopped, match="over the cap of 0.2 GiB"):
        growth.run_measured([sys.executable, "-c", grows], tmp_path, memory_cap=200 * 2**20)
    assert time.perf_counter() - started < 20  # stopped, not waited for
    # Under the cap the same child's figures come back.
    fits = "import numpy as np; a = np.ones(100 * 2**20, np.uint8); a.sum()"
    child = growth.run_measured([sys.executable, "-c", fits], tmp_path, memory_cap=2**30)
    assert 100 * 2**20 < child.peak_rss_bytes < 2**30


def test_a_child_past_the_time_limit_is_stopped(growth, tmp_path):
    started = time.perf_counter()
    with pytest.raises(growth.StepStopped, match="past the limit of 1 s"):
        growth.run_measured(
            [sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, time_limit=1
        )
    assert time.perf_counter() - started < 10


def test_a_failing_child_is_reported_with_its_error(growth, tmp_path):
    with pytest.raises(RuntimeError, match="no such thing"):
        growth.run_measured([sys.executable, "-c", "raise SystemExit('no such thing')"], tmp_path)


def test_growth_rows_hold_each_step_against_the_runs_and_the_pairs(growth):
    result = growth.StepResult
    results = [
        result("metrics", 10, 2.0, 100, pairs=45),
        result("plots", 10, 1.0, 50),
        result("metrics", 50, 30.0, 200, pairs=1225),
        result("plots", 50, 40.0, 60),
    ]
    rows = {row["step"]: row for row in growth.growth_rows(results)}
    assert rows["metrics"]["runs_ratio"] == 5.0
    assert rows["metrics"]["pairs_ratio"] == pytest.approx(1225 / 45)
    assert rows["metrics"]["time_ratio"] == 15.0
    assert rows["metrics"]["rss_ratio"] == 2.0
    assert not rows["metrics"]["faster_than_pairs"]
    assert rows["plots"]["time_ratio"] == 40.0
    assert rows["plots"]["faster_than_pairs"]  # 40x against 27.2x


def test_a_step_too_short_to_time_is_not_held_against_the_pairs(growth):
    result = growth.StepResult
    results = [
        result("paired", 10, 0.02, 100, pairs=45),
        result("paired", 50, 0.9, 100, pairs=1225),
    ]
    (row,) = growth.growth_rows(results)
    assert row["time_ratio"] == pytest.approx(45.0)  # over the pairs' 27.2x, yet
    assert row["too_short"]
    assert not row["faster_than_pairs"]


def test_a_size_that_does_not_fit_the_free_space_is_refused(growth, tmp_path, monkeypatch):
    monkeypatch.setattr(growth, "free_bytes", lambda path: 10 * 2**30)
    growth.refuse_what_does_not_fit([20], 40 * 10**6, tmp_path)  # 0.8 GB
    with pytest.raises(SystemExit, match="1000 runs would need more than 80 %"):
        growth.refuse_what_does_not_fit([20, 1000], 40 * 10**6, tmp_path)  # 40 GB


def test_a_run_file_takes_what_the_package_writer_stores(growth, tmp_path):
    """1,000 images' logits: 4 MB as float32, no more than that and the file's framing with any
    lossless codec (less where it compresses the coarse values)."""
    size = growth.run_file_bytes(100, coarse=True, root=tmp_path)
    assert 0 < size < 1.1 * 1000 * 4000
    assert list(tmp_path.iterdir()) == []  # the sample is removed


def test_the_estimate_counts_runs_and_pairs_and_stops_at_the_step_limit(growth):
    pairs = math.comb(3 * 10, 2)
    per_run, per_pair = growth.STEP_COSTS["metrics"]
    write = growth.STEP_COSTS["write"][0]
    estimate = growth.estimate_seconds([10], ["metrics"], full=False, step_limit=0)
    assert estimate == pytest.approx(
        growth.FIXED_SECONDS + 10 * (write + per_run) + pairs * per_pair
    )
    # One step past the limit counts as the limit: the script stops it there.
    capped = growth.estimate_seconds([1000], ["plots"], full=False, step_limit=60)
    assert capped == pytest.approx(growth.FIXED_SECONDS + 1000 * write + 60)


@pytest.fixture(scope="module")
def blocked_workspace(growth, tmp_path_factory):
    """Two models with runs of CIFAR-10 and of a CIFAR-10-C selection of 2 corruptions x 2
    severities x 20 images, as --cifar10-c prepares them (at full size: 15 x 5 x 10,000)."""
    workdir = tmp_path_factory.mktemp("growth-cifar10-c")
    blocks = growth.selection_blocks(2, 2)
    growth.prepare_workspace(workdir, runs=2, images_per_class=2, coarse=True, blocks=blocks)
    return workdir, blocks


def test_the_selection_is_read_as_the_metrics_job_reads_one(growth, blocked_workspace):
    from cifar_zeroshot.data.image_set import ImageSet, load_image_set
    from cifar_zeroshot.data.shifted_selection import read_selection_table
    from cifar_zeroshot.data.test_set import images_digest
    from cifar_zeroshot.data.test_set_checks import read_test_set

    workdir, blocks = blocked_workspace
    images_path = workdir / "data/synthetic/cifar10-c/test_set.npz"
    table = read_selection_table(workdir / "data/synthetic/cifar10-c/blocks.csv", images_path)
    assert list(zip(table["corruption"], table["severity"], strict=True)) == blocks
    assert table["first_image"].tolist() == [0, 20, 40, 60]
    images, labels = load_image_set(images_path, ImageSet.TEST)
    assert images.shape == (80, 32, 32, 3)
    assert len(np.unique(images.reshape(80, -1), axis=0)) == 80  # not one image repeated
    configured = read_test_set(images_path, None)
    assert configured.sha256 == images_digest(images, labels)
    _, plan = growth.workspace_plan(workdir)
    shifted_runs = [run for run in plan.runs if run[0] == "cifar10-c"]
    assert len(shifted_runs) == 2
    for run in shifted_runs:
        facts = read_logits(workdir / plan.run_output_path(*run)).facts
        assert (facts.image_count, facts.test_set_sha256) == (80, configured.sha256)


def test_the_metrics_job_scores_every_block_of_the_selection(growth, blocked_workspace):
    workdir, blocks = blocked_workspace
    growth.run_metrics_job(workdir)
    metrics = pd.read_csv(workdir / "results" / "metrics.csv")
    shifted = metrics[metrics["test_set"] == "cifar10-c"]
    scored = set(zip(shifted["corruption"], shifted["severity"].astype(int), strict=True))
    assert scored == set(blocks)
    assert (shifted["images"] == 20).all()
    assert set(shifted["model"]) == set(metrics.loc[metrics["test_set"] == "cifar10", "model"])
    assert len(set(shifted["model"])) == 2


def test_the_cifar10_c_verdict_holds_the_peak_against_the_target(growth):
    below = growth.StepResult("metrics", 3, 100.0, 2 * 10**9, 10)
    above = growth.StepResult("metrics", 3, 100.0, 4 * 10**9, 10)
    stopped = growth.StepResult("metrics", 3, None, None, failed="stopped at 12 GiB")
    assert "below the 3 GB target" in growth.cifar10_c_verdict([below], 3, 75, 10_000)
    assert "ABOVE the 3 GB target" in growth.cifar10_c_verdict([above], 3, 75, 10_000)
    assert "stopped at 12 GiB" in growth.cifar10_c_verdict([stopped], 3, 75, 10_000)


def test_cifar10_c_mode_refuses_the_steps_that_need_the_workflows_rules(growth):
    with pytest.raises(SystemExit, match="--steps metrics paired"):
        growth.main(["--cifar10-c", "--steps", "plots"])
