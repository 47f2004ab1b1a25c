import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, confusion_matrix, top_k_accuracy_score

from cifar_zeroshot import metrics as m
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.logits_io import LogitsWriter, write_timing
from cifar_zeroshot.summary import summary_markdown, write_summary_markdown

# Class k pools ImageNet classes 10k and 10k+1; everything from 100 up is unmapped.
GROUPS = [np.array([10 * k, 10 * k + 1]) for k in range(10)]
NAMES = [f"in{i}" for i in range(1000)]


def _facts(model, variant, n, dataset="synthetic"):
    return {
        "model": model,
        "variant": variant,
        "weights": f"{model}_Weights.X",
        "dataset": dataset,
        "image_count": n,
        "device": "cpu",
        "device_name": "Test CPU",
    }


def _summary(seed):
    return {
        "images_per_second": 100.0 * (seed + 1),
        "ms_per_image": 10.0 / (seed + 1),
        "latency_p50_ms": 1.0,
        "latency_p90_ms": 2.0,
        "latency_p99_ms": 3.0,
        "batch_size": 8,
        "model_load_seconds": 0.5,
        "compile_seconds": None,
        "torch_peak_allocated_bytes": None,
        "torch_peak_reserved_bytes": None,
        "nvml_process_bytes": None,
        "host_peak_rss_bytes": 512 * 2**20,
    }


def write_run(folder, model, variant, logits, labels, dataset="synthetic", seed=0):
    """A logits + timing pair as inference writes them (rows in shuffled order)."""
    n = len(labels)
    logits_path = folder / "logits" / model / f"{variant}.parquet"
    timing_path = folder / "timing" / model / f"{variant}.parquet"
    facts = _facts(model, variant, n, dataset)
    order = np.random.default_rng(seed).permutation(n)
    with LogitsWriter(logits_path, facts) as writer:
        for chunk in np.array_split(order, 3):
            writer.write_batch(chunk, labels[chunk], logits[chunk])
    batches = pd.DataFrame(
        {
            "batch_index": [0, 1],
            "warmup": [True, False],
            "images": [n // 2, n - n // 2],
            "padded_images": [n, n],
            "input_seconds": [0.1, 0.1],
            "forward_seconds": [0.2, 0.2],
            "output_seconds": [0.01, 0.01],
            "total_seconds": [0.31, 0.31],
        }
    )
    write_timing(timing_path, batches, facts, _summary(seed))
    return logits_path, timing_path


def _one_hot_logits(winners, n_classes=1000, value=5.0):
    logits = np.zeros((len(winners), n_classes), np.float32)
    logits[np.arange(len(winners)), winners] = value
    return logits


# --- scoring on hand-made logits -------------------------------------------------------------


def test_pooling_methods_on_known_logits():
    logits = np.zeros((1, 1000), np.float32)
    logits[0, [0, 1]] = [2.0, 1.0]  # class 0
    logits[0, 10] = 3.0  # class 1, one strong member
    max_logit = m.pool(logits, GROUPS, "max_logit")
    assert max_logit[0, :3].tolist() == [2.0, 3.0, 0.0]
    p = np.exp(logits[0].astype(np.float64)) / np.exp(logits[0].astype(np.float64)).sum()
    np.testing.assert_allclose(m.pool(logits, GROUPS, "sum_prob")[0, 0], p[0] + p[1])
    np.testing.assert_allclose(m.pool(logits, GROUPS, "mean_prob")[0, 1], (p[10] + p[11]) / 2)
    # Class 0's two moderate members outweigh class 1's single strong one only when summed.
    assert m.top1(m.pool(logits, GROUPS, "max_logit"))[0] == 1
    assert m.top1(m.pool(logits, GROUPS, "sum_prob"))[0] == 1
    logits[0, 1] = 2.9
    assert m.top1(m.pool(logits, GROUPS, "sum_prob"))[0] == 0
    assert m.top1(m.pool(logits, GROUPS, "max_logit"))[0] == 1


def test_softmax_is_stable_for_huge_logits():
    logits = np.full((1, 1000), -1e30, np.float32)
    logits[0, 5] = 3e38
    probabilities = m.softmax(logits)
    assert np.isfinite(probabilities).all()
    assert probabilities[0, 5] == 1.0


def test_topk_and_ties_go_to_the_lower_class():
    scores = np.array([[0.0, 1.0, 1.0, 0.5] + [0.0] * 6, [9.0] * 10])
    assert m.ranking(scores, 3).tolist() == [[1, 2, 3], [0, 1, 2]]
    labels = np.array([2, 4])
    assert m.topk_correct(scores, labels, 1).tolist() == [False, False]
    assert m.topk_correct(scores, labels, 2).tolist() == [True, False]
    assert m.topk_correct(scores, labels, 5).tolist() == [True, True]


def test_unrestricted_and_outside_share():
    # Winners: in class 0's group, in class 1's group, unmapped (500), class 3's group.
    logits = _one_hot_logits([1, 10, 500, 30])
    labels = np.array([0, 2, 5, 3])
    hit, outside = m.unrestricted(logits, labels, GROUPS)
    assert hit.tolist() == [True, False, False, True]
    assert outside.tolist() == [False, False, True, False]
    lookup = m.imagenet_to_cifar(GROUPS)
    assert lookup[11] == 1 and lookup[12] == -1 and (lookup == -1).sum() == 980


def test_unknown_pooling_and_empty_group_are_user_errors():
    with pytest.raises(UserError, match="Unknown pooling 'median'"):
        m.pool(np.zeros((1, 1000)), GROUPS, "median")
    with pytest.raises(UserError, match="class 3 has no ImageNet classes"):
        m.pool(np.zeros((1, 1000)), [*GROUPS[:3], np.array([], int), *GROUPS[4:]])


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (7, 10), (1, 3), (873, 1000), (5, 9999)])
def test_wilson_matches_scipy(k, n):
    expected = binomtest(k, n).proportion_ci(method="wilson")
    low, high = m.wilson_interval(k, n)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_wilson_without_trials_is_nan():
    assert all(math.isnan(x) for x in m.wilson_interval(0, 0))


@pytest.mark.parametrize("method", m.POOLINGS)
def test_accuracies_match_sklearn_on_random_logits(method):
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((400, 1000)).astype(np.float32) * 3
    labels = rng.integers(0, 10, 400)
    scores = m.pool(logits, GROUPS, method)
    predicted = m.top1(scores)
    assert m.topk_correct(scores, labels, 1).mean() == pytest.approx(
        accuracy_score(labels, predicted)
    )
    assert m.topk_correct(scores, labels, 5).mean() == pytest.approx(
        top_k_accuracy_score(labels, scores, k=5, labels=np.arange(10))
    )
    np.testing.assert_array_equal(
        m.confusion_matrix(labels, predicted), confusion_matrix(labels, predicted, labels=range(10))
    )


def test_pool_all_matches_pool():
    logits = np.random.default_rng(3).standard_normal((20, 1000)).astype(np.float32)
    for method, scores in m.pool_all(logits, GROUPS).items():
        np.testing.assert_array_equal(scores, m.pool(logits, GROUPS, method))


def test_agreement():
    assert m.agreement(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75


# --- tables from files -----------------------------------------------------------------------


@pytest.fixture
def three_runs(tmp_path):
    """resnet fp32 (20/30 correct), resnet bf16 (flips 3 answers), vit fp32; 30 images."""
    labels = np.arange(30) % 10
    winners = 10 * labels  # correct: the first member of the true class's group
    winners[:10] = 500  # first 10 images: an unmapped ImageNet class wins
    fp32 = _one_hot_logits(winners)
    # Among the unmapped winners, pooled scores still favour the true class by a little.
    fp32[np.arange(10), 10 * labels[:10] + 1] = 1.0
    bf16 = fp32.copy()
    bf16[[10, 11, 12]] = _one_hot_logits([30, 30, 30])  # now predicts cat (3)
    vit = _one_hot_logits(10 * ((labels + 1) % 10))  # always the next class
    runs = [
        write_run(tmp_path, "resnet", "fp32", fp32, labels, seed=0),
        write_run(tmp_path, "vit", "fp32", vit, labels, seed=2),
        write_run(tmp_path, "resnet", "bf16", bf16, labels, seed=1),
    ]
    return tmp_path, runs


def test_build_tables_rows_columns_and_values(three_runs):
    _, runs = three_runs
    tables = m.build_tables(runs, GROUPS, NAMES, "max_logit")
    metrics = tables.metrics
    assert list(metrics.columns) == list(m.METRICS_COLUMNS)
    assert list(zip(metrics["model"], metrics["variant"], strict=True)) == [
        ("resnet", "bf16"),
        ("resnet", "fp32"),
        ("vit", "fp32"),
    ]
    row = metrics.set_index(["model", "variant"]).loc
    assert row[("resnet", "fp32"), "top1"] == 1.0
    assert row[("resnet", "fp32"), "unrestricted_top1"] == pytest.approx(20 / 30)
    assert row[("resnet", "fp32"), "outside_mapped_share"] == pytest.approx(10 / 30)
    assert row[("resnet", "bf16"), "top1"] == pytest.approx(27 / 30)
    assert row[("resnet", "bf16"), "agreement_with_fp32"] == pytest.approx(27 / 30)
    assert math.isnan(row[("resnet", "fp32"), "agreement_with_fp32"])
    assert math.isnan(row[("vit", "fp32"), "agreement_with_fp32"])
    assert row[("vit", "fp32"), "top1"] == 0.0
    # Ties among the other nine classes rank the lower ones first: labels 0-3 make the top 5.
    assert row[("vit", "fp32"), "top5_max_logit"] == pytest.approx(0.4)
    low, high = m.wilson_interval(27, 30)
    assert row[("resnet", "bf16"), "top1_ci_low"] == pytest.approx(low)
    assert row[("resnet", "bf16"), "top1_ci_high"] == pytest.approx(high)
    assert row[("vit", "fp32"), "images_per_second"] == 300.0
    assert row[("vit", "fp32"), "host_peak_rss_mb"] == 512.0
    assert math.isnan(row[("vit", "fp32"), "torch_peak_allocated_mb"])
    assert set(metrics["device_name"]) == {"Test CPU"} and set(metrics["images"]) == {30}

    per_class = tables.per_class
    assert len(per_class) == 30 and list(per_class.columns) == list(m.PER_CLASS_COLUMNS)
    cat = per_class[(per_class["model"] == "resnet") & (per_class["variant"] == "bf16")]
    by_class = cat.set_index("cifar_class")
    assert by_class.loc["bird", "correct"] == 2 and by_class.loc["cat", "images"] == 3
    assert by_class.loc["airplane", "accuracy"] == pytest.approx(2 / 3)

    confusion = tables.confusion
    assert len(confusion) == 300 and confusion["count"].sum() == 90
    bf16 = confusion[(confusion["model"] == "resnet") & (confusion["variant"] == "bf16")]
    cell = bf16.set_index(["true_class", "predicted_class"])["count"]
    assert cell[("airplane", "cat")] == 1 and cell[("cat", "cat")] == 3

    top = tables.top_confusions
    assert list(top.columns) == list(m.TOP_CONFUSION_COLUMNS)
    first = top[(top["model"] == "resnet") & (top["variant"] == "fp32")]
    airplane = first[first["cifar_class"] == "airplane"]
    assert airplane["imagenet_index"].tolist() == [0, 500]  # 2 x in0, 1 x in500; count order
    assert airplane["imagenet_name"].tolist() == ["in0", "in500"]
    assert airplane["share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert airplane["rank"].tolist() == [1, 2]


def test_other_poolings_fill_their_own_columns(three_runs):
    _, runs = three_runs
    metrics = m.build_tables(runs, GROUPS, NAMES, "sum_prob").metrics
    assert (metrics["pooling"] == "sum_prob").all()
    np.testing.assert_array_equal(metrics["top1"], metrics["top1_sum_prob"])
    np.testing.assert_array_equal(metrics["top5"], metrics["top5_sum_prob"])


def test_csvs_are_byte_identical_on_rewrite(three_runs, tmp_path):
    _, runs = three_runs
    names = ("metrics", "per_class", "confusion", "top_confusions")
    contents = []
    for attempt, order in enumerate((runs, runs[::-1])):
        tables = m.build_tables(order, GROUPS, NAMES)
        paths = [tmp_path / f"out{attempt}" / f"{name}.csv" for name in names]
        tables.write(*paths)
        write_summary_markdown(tables.metrics, tmp_path / f"out{attempt}" / "summary.md")
        contents.append([p.read_bytes() for p in [*paths, paths[0].with_name("summary.md")]])
    assert contents[0] == contents[1]
    assert not list((tmp_path / "out0").glob(".*tmp"))
    text = contents[0][0].decode()
    assert text.splitlines()[0].startswith("model,variant,weights,dataset")
    assert "Test CPU" in text


def test_nan_logits_stop_everything_naming_the_file(three_runs):
    folder, runs = three_runs
    labels = np.arange(30) % 10
    logits = _one_hot_logits(labels * 10)
    logits[4, 3] = np.nan
    bad = write_run(folder, "broken", "fp32", logits, labels)
    with pytest.raises(UserError, match=r"broken.fp32\.parquet contains NaN"):
        m.build_tables([*runs, bad], GROUPS, NAMES)


def test_mismatched_logits_and_timing_files(three_runs):
    _, runs = three_runs
    with pytest.raises(UserError, match=r"fp32\.parquet and .*bf16\.parquet come from different"):
        m.build_tables([(runs[0][0], runs[2][1])], GROUPS, NAMES)


def test_runs_on_different_test_sets_are_refused(three_runs):
    folder, runs = three_runs
    labels = np.arange(20) % 10
    small = write_run(folder, "small", "fp32", _one_hot_logits(labels * 10), labels)
    with pytest.raises(UserError, match=r"small.fp32\.parquet .*20 images.*different test sets"):
        m.build_tables([*runs, small], GROUPS, NAMES)
    labels = np.arange(30) % 10
    other = write_run(folder, "other", "fp32", _one_hot_logits(labels * 10), labels, "cifar10")
    with pytest.raises(UserError, match=r"other.fp32\.parquet \(cifar10"):
        m.build_tables([*runs, other], GROUPS, NAMES)


def test_duplicate_run_is_refused(three_runs):
    _, runs = three_runs
    with pytest.raises(UserError, match="both resnet fp32"):
        m.build_tables([runs[0], runs[0]], GROUPS, NAMES)


def test_read_mapping_csv(tmp_path):
    path = tmp_path / "class_mapping.csv"
    rows = [(name, 10 * k, f"n{10 * k}") for k, name in enumerate(m.CIFAR10_CLASSES)]
    rows += [("cat", 31, "n31")]
    pd.DataFrame(rows, columns=["cifar_class", "imagenet_index", "imagenet_name"]).to_csv(
        path, index=False
    )
    groups, names = m.read_mapping_csv(path)
    assert [g.tolist() for g in groups][3] == [30, 31]
    assert names[31] == "n31" and len(groups) == 10
    everything = m.all_imagenet_names(names)
    assert len(everything) == 1000 and everything[31] == "n31"
    pd.DataFrame(rows[:-2], columns=["cifar_class", "imagenet_index", "imagenet_name"]).to_csv(
        path, index=False
    )
    with pytest.raises(UserError, match="no ImageNet classes for 'truck'"):
        m.read_mapping_csv(path)


def test_summary_markdown_header_and_rows(three_runs):
    _, runs = three_runs
    text = summary_markdown(m.build_tables(runs, GROUPS, NAMES).metrics)
    lines = text.splitlines()
    assert "synthetic" in lines[0] and "30 test images" in lines[0] and "max_logit" in lines[0]
    assert len([line for line in lines if line.startswith("| resnet")]) == 2
    assert "| 100.0 [88.6, 100.0] |" in text  # resnet fp32: 30/30 with its Wilson interval
    assert "512 MiB (host RSS)" in text  # CPU runs: no GPU figure
