"""The finished small run has balanced rows, per-class figures and the offsets kept."""

import pandas as pd
import pytest

from cifar_zeroshot.analysis.balancing_tables import OFFSET_COLUMNS


@pytest.mark.e2e
def test_the_small_run_has_balanced_rows_and_their_offsets(finished_small_run):
    results = finished_small_run / "results"
    metrics = pd.read_csv(results / "metrics.csv")
    methods = set(metrics["method"])
    assert {"class_mapping", "class_mapping+balanced", "class_mapping+balanced_all"} <= methods
    assert metrics[["balanced_accuracy", "worst_class_recall", "worst_class"]].notna().all().all()
    balanced = metrics[metrics["method"] == "class_mapping+balanced"]
    assert balanced["top1_sum_prob_balanced"].notna().all()
    balancing = pd.read_csv(results / "balancing.csv")
    assert set(balancing["fit"]) == {"cross_fitted", "all"}
    assert balancing[list(OFFSET_COLUMNS)].notna().all().all()
    assert (results / "plots/per_class_balanced.png").stat().st_size > 0
    summary = (results / "summary.md").read_text()
    assert "balanced acc. %" in summary and "class_mapping+balanced" in summary
