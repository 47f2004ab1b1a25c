"""The shifted test sets end to end, offline: CIFAR-10.1 and CIFAR-10-C stand-ins added to the
finished small run (its CIFAR-10 job is not rerun): the session's run with SHIFTED_SETS_CONFIG."""

import numpy as np
import pandas as pd
import pytest
from workflow_runner import (
    SHIFTED_SETS_CONFIG,
    SMALL_CONFIG,
    copy_finished_run,
    planned_jobs,
    write_config,
)

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv
from cifar_zeroshot.data.image_set import ImageSet, load_image_set
from cifar_zeroshot.data.shifted_selection import block_of_rows, read_selection_table
from cifar_zeroshot.mapping.tables import read_mapping_csv
from cifar_zeroshot.methods.scoring import pool
from cifar_zeroshot.records.logits import read_logits, read_timing

pytestmark = pytest.mark.e2e

MODEL = SMALL_CONFIG["models"][0]


@pytest.fixture(scope="module")
def shift_run(tmp_path_factory, _pristine_shifted_run):
    """A private copy of the session's shifted run (tests/conftest.py), made from the small run
    with SHIFTED_SETS_CONFIG: the jobs that made it are the ones planned below."""
    return copy_finished_run(_pristine_shifted_run, tmp_path_factory.mktemp("shift") / "run")


def test_the_shifted_sets_add_one_inference_job_each_to_the_finished_small_run(
    finished_small_run,
):
    write_config(finished_small_run, SHIFTED_SETS_CONFIG)
    jobs = planned_jobs(finished_small_run)
    # One job per shifted set (the same rule as CIFAR-10's, the set a wildcard); CIFAR-10's
    # finished job is left as it is.
    assert jobs.get("inference") == 2
    assert jobs.get("cifar10_c_blocks") == 2  # only the selected corruptions are extracted


def test_each_shifted_set_is_scored_in_one_job_with_rows_naming_their_block(shift_run):
    c = read_logits(shift_run / f"results/logits/cifar10-c/{MODEL}/fp32.parquet")
    # 40 synthetic test images, cut to 30 per (corruption, severity) block, 4 blocks.
    assert len(c.image_index) == 4 * 30
    table = read_selection_table(
        shift_run / "data/synthetic/cifar10-c/blocks.csv",
        shift_run / "data/synthetic/cifar10-c/test_set.npz",
    )
    corruption, severity = block_of_rows(table, c.image_index)
    assert list(zip(corruption[::30], severity[::30], strict=True)) == [
        ("contrast", 1),
        ("contrast", 5),
        ("pixelate", 1),
        ("pixelate", 5),
    ]
    # Each block's labels are the CIFAR-10 test set's first 30.
    _, test_labels = load_image_set(shift_run / "data/synthetic/test_set.npz", ImageSet.TEST)
    assert np.array_equal(c.labels, np.tile(test_labels[:30], 4))
    timing = read_timing(shift_run / f"results/timing/cifar10-c/{MODEL}/fp32.parquet")
    assert timing.facts.image_count == 120 and timing.facts.limit is None
    one = read_logits(shift_run / f"results/logits/cifar10.1/{MODEL}/fp32.parquet")
    assert len(one.image_index) == 30 and one.facts.limit == 30


def test_editing_the_corruption_list_reruns_only_cifar10_c(shift_run):
    assert planned_jobs(shift_run) == {}
    jobs = planned_jobs(shift_run, "--config", "corruptions=[contrast,brightness]")
    assert jobs.get("cifar10_c_blocks") == 1  # brightness alone is extracted
    assert jobs.get("cifar10_c_selection") == 1 and jobs.get("inference") == 1
    jobs = planned_jobs(shift_run, "--config", "severities=[1,2,5]")
    assert "cifar10_c_blocks" not in jobs and jobs.get("inference") == 1


def test_metrics_rows_per_test_set_and_block_recomputed_from_the_stored_files(shift_run):
    metrics = read_metrics_csv(shift_run / "results/metrics.csv")
    assert set(metrics["test_set"]) == {"cifar10", "cifar10.1", "cifar10-c"}
    c_rows = metrics[(metrics["test_set"] == "cifar10-c") & (metrics["method"] == "class_mapping")]
    assert sorted(zip(c_rows["corruption"], c_rows["severity"], strict=True)) == [
        ("contrast", 1),
        ("contrast", 5),
        ("pixelate", 1),
        ("pixelate", 5),
    ]
    assert set(c_rows["images"]) == {30}
    # One CIFAR-10-C row's top-1, from the stored logits and the block's own image set.
    row = c_rows[(c_rows["corruption"] == "pixelate") & (c_rows["severity"] == 5)].iloc[0]
    logits = read_logits(shift_run / f"results/logits/cifar10-c/{MODEL}/fp32.parquet")
    order = np.argsort(logits.image_index)
    block = logits.logits[order][90:120]  # the fourth block: pixelate at severity 5
    _, labels = load_image_set(
        shift_run / "data/synthetic/cifar10-c/pixelate/severity5.npz", ImageSet.TEST
    )
    groups, _ = read_mapping_csv(shift_run / "results/class_mapping.csv")
    predicted = pool(block, groups, SHIFTED_SETS_CONFIG.get("pooling", "max_logit")).argmax(axis=1)
    assert row["top1"] == pytest.approx(np.mean(predicted == labels[:30]), abs=1e-6)
    # No probe in this run (tests/e2e/test_linear_probe_workflow.py scores it on shifted sets).
    assert "linear_probe" not in set(metrics.loc[metrics["test_set"] != "cifar10", "method"])
    one = metrics[(metrics["test_set"] == "cifar10.1") & (metrics["method"] == "class_mapping")]
    assert len(one) == 1 and one["corruption"].isna().all() and one["images"].iloc[0] == 30


def test_robustness_table_csv_and_figures_are_drawn_from_the_stored_files(shift_run):
    robustness = pd.read_csv(shift_run / "results/robustness.csv")
    assert set(robustness["test_set"]) == {"cifar10.1", "cifar10-c"}
    # One model: no fit, and the file says why instead of a number.
    assert robustness["effective_robustness"].isna().all()
    assert robustness["no_fit_reason"].str.contains("at least 3").all()
    metrics = read_metrics_csv(shift_run / "results/metrics.csv")
    c_rows = metrics[(metrics["test_set"] == "cifar10-c") & (metrics["method"] == "class_mapping")]
    c_row = robustness[
        (robustness["test_set"] == "cifar10-c") & (robustness["method"] == "class_mapping")
    ].iloc[0]
    assert c_row["shifted_top1"] == pytest.approx(c_rows["top1"].mean(), abs=1e-5)
    summary = (shift_run / "results/summary.md").read_text()
    assert "## Robustness to distribution shift" in summary and "no fit: 1 model(s)" in summary
    for name in ("corruption_severity", "effective_robustness"):
        assert (shift_run / f"results/plots/{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
