"""The linear probe end to end: offline, synthetic images, untrained weights.

The synthetic classes differ in colour and stripes, so random convolutional features separate
them while zero-shot scoring through the ImageNet mapping stays at chance: an honest check of
the whole probe path without real weights.
"""

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_runner import SMALL_CONFIG, copy_finished_run, planned_jobs, snakemake, write_config

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv
from cifar_zeroshot.data.image_set import ImageSet, load_image_set
from cifar_zeroshot.methods.probe.few_shot import FewShotFeatures, few_shot_rows
from cifar_zeroshot.methods.probe.few_shot_settings import FewShotSettings
from cifar_zeroshot.methods.probe.settings import ProbeSettings
from cifar_zeroshot.records.features import read_features
from cifar_zeroshot.records.probe_fit import read_probe_fit
from cifar_zeroshot.records.probe_scores import read_probe_scores

pytestmark = pytest.mark.e2e

# The finished small run (mobilenet_v3_small on 40 test images) with the probe turned on: its
# synthetic archive already holds the default 100 training images per class.
# Few-shot probes at k 1 and 2 (the full probe's strength) and 4 (a hold-out), two draws each:
# every path of the defaults' 25 fits in 6, since every rerun here refits them.
PROBE_CONFIG = {
    **SMALL_CONFIG,
    "linear_probe": True,
    "threads": 2,
    "few_shot_k": [1, 2, 4],
    "few_shot_draws": 2,
}
MODEL = SMALL_CONFIG["models"][0]
MODEL_JOBS = {"inference", "inference_with_features", "train_features"}
PROBE = f"results/probe/cifar10/{MODEL}/fp32.parquet"
TEST_FEATURES = f"results/features/cifar10/{MODEL}/fp32/test.parquet"
# The fixes below are followed as far as the metrics job, which writes the files they check (and
# the summary): the jobs after it draw figures of files it has read.
METRICS = "results/metrics.csv"


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory, _pristine_small_run):
    workdir = copy_finished_run(_pristine_small_run, tmp_path_factory.mktemp("probe") / "run")
    write_config(workdir, PROBE_CONFIG)
    return workdir, snakemake(workdir)


def _metrics(workdir):
    with open(workdir / "results/metrics.csv", newline="") as handle:
        # The balanced variants (docs/balanced-zero-shot.md) are tested on their own.
        return {
            (row["model"], row["method"]): row
            for row in csv.DictReader(handle)
            if "+balanced" not in row["method"]
        }


def test_the_probe_separates_what_zero_shot_cannot(probe_run):
    workdir = probe_run[0]
    metrics = _metrics(workdir)
    assert set(metrics) == {(MODEL, "class_mapping"), (MODEL, "linear_probe")}
    probe, zero_shot = metrics[MODEL, "linear_probe"], metrics[MODEL, "class_mapping"]
    # 100 training images per class; measured 1.00 (chance is 0.10).
    assert float(probe["top1"]) >= 0.8
    assert float(zero_shot["top1"]) <= 0.3
    assert float(probe["top1_ci_low"]) < float(probe["top1"]) <= float(probe["top1_ci_high"])
    assert probe["pooling"] == "" and zero_shot["probe_regularisation"] == ""
    assert float(probe["probe_train_images"]) == 1000
    assert float(probe["probe_train_images_per_second"]) > 0
    # Speed and memory are the run's: the same on both rows.
    assert probe["images_per_second"] == zero_shot["images_per_second"]
    assert (workdir / "results/plots/probe_vs_zero_shot.png").stat().st_size > 0
    summary = (workdir / "results/summary.md").read_text()
    assert f"| {MODEL} | fp32 | linear_probe |" in summary


def test_the_probe_equals_an_independent_scikit_learn_fit_on_the_stored_features(probe_run):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    workdir = probe_run[0]
    train = read_features(workdir / f"results/features/{MODEL}/fp32/train.parquet")
    test = read_features(workdir / f"results/features/cifar10/{MODEL}/fp32/test.parquet")
    probe = read_probe_scores(workdir / f"results/probe/cifar10/{MODEL}/fp32.parquet")
    scaler = StandardScaler().fit(train.values.astype(np.float64))
    strength, n = probe.record.regularisation, len(train.labels)
    classifier = LogisticRegression(C=1 / (strength * n), max_iter=2000)
    classifier.fit(scaler.transform(train.values.astype(np.float64)), train.labels)
    predicted = classifier.predict(scaler.transform(test.values.astype(np.float64)))
    independent = float(np.mean(predicted == test.labels))
    stored = float(_metrics(workdir)[MODEL, "linear_probe"]["top1"])
    assert abs(stored - independent) <= 0.005


def test_few_shot_probes_reuse_the_features_and_repeat_bit_for_bit(probe_run):
    workdir = probe_run[0]
    path = workdir / f"results/few_shot/{MODEL}/fp32.csv"
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    # k in [1, 2, 4], 2 draws each (PROBE_CONFIG), every draw's images recorded.
    assert [(int(r["k"]), int(r["draw"])) for r in rows] == [
        (k, d) for k in (1, 2, 4) for d in range(2)
    ]
    assert all(len(r["train_image_indices"].split()) == 10 * int(r["k"]) for r in rows)
    sources = {int(r["k"]): r["regularisation_from"] for r in rows}
    assert sources == {1: "full probe", 2: "full probe", 4: "hold-out"}
    assert (workdir / "results/plots/few_shot.png").stat().st_size > 0
    summary = (workdir / "results/summary.md").read_text()
    # "labelled image per class" after "fewer than 1", else "labelled images per class".
    assert f"- {MODEL} fp32: zero-shot (" in summary and "labelled image" in summary
    # Refitted in this process from the stored features with the same seed: the same draws
    # and the same top-1, bit for bit (one draw of a fixed-strength k and of a hold-out k).
    train = read_features(workdir / f"results/features/{MODEL}/fp32/train.parquet")
    test = read_features(workdir / TEST_FEATURES)
    features = FewShotFeatures.ordered(
        (train.image_index, train.labels, train.values), (test.labels, test.values)
    )
    probe = read_probe_scores(workdir / PROBE).record
    settings = ProbeSettings(
        probe.validation_fraction, tuple(probe.regularisations), probe.max_iterations, probe.seed
    )
    again = few_shot_rows(features, FewShotSettings((1, 4), 1, 0), settings, probe.regularisation)
    stored = {(int(r["k"]), int(r["draw"])): r for r in rows}
    for row in again:
        written = stored[row["k"], row["draw"]]
        assert row["train_image_indices"] == written["train_image_indices"]
        assert f"{row['test_top1']:.6g}" == written["test_top1"]
        assert f"{row['regularisation']:.6g}" == written["regularisation"]


def test_mapping_edits_rerun_no_probe_and_probe_settings_rerun_no_model(probe_run, tmp_path):
    workdir = copy_finished_run(probe_run[0], tmp_path / "copy")
    mapping = workdir / "config/class_mapping.yaml"
    mapping.write_text(mapping.read_text() + "\n# edited\n")
    jobs = planned_jobs(workdir)
    assert "metrics" in jobs and not set(jobs) & (MODEL_JOBS | {"linear_probe"})
    jobs = planned_jobs(workdir, "--config", "linear_probe_max_iterations=40")
    assert jobs.get("linear_probe") == 1 and not set(jobs) & MODEL_JOBS


def _refused(workdir, *args: str) -> str:
    """Run snakemake, which must fail; its stderr."""
    result = snakemake(workdir, *args, check=False)
    assert result.returncode != 0, result.stderr[-3000:]
    return result.stderr


def test_an_edited_few_shot_file_is_refused_and_its_fix_works(probe_run, tmp_path):
    """The summary's "worth k labelled images" must not come from numbers edited by hand."""
    workdir = copy_finished_run(probe_run[0], tmp_path / "copy")
    few_shot = workdir / f"results/few_shot/{MODEL}/fp32.csv"
    lines = few_shot.read_text().splitlines()
    header = lines[0].split(",")
    at = header.index("test_top1")
    cells = [line.split(",") for line in lines[1:]]
    for row in cells:
        row[at] = "0.01"
    few_shot.write_text("\n".join([lines[0], *map(",".join, cells)]) + "\n")
    stderr = _refused(workdir)
    assert (
        f"{Path('results/few_shot') / MODEL / 'fp32.csv'} is not the file its job wrote" in stderr
    )
    few_shot.unlink()  # the fix the message gives, as far as the summary (the metrics job's)
    snakemake(workdir, METRICS)
    assert "worth" in (workdir / "results/summary.md").read_text()


def test_a_probe_fitted_under_other_settings_is_refused_and_its_fix_works(probe_run, tmp_path):
    # Issue 24: a probe fitted with [1000.0], put back into a default run, was reported.
    other = copy_finished_run(probe_run[0], tmp_path / "other")
    snakemake(other, PROBE, "--config", "linear_probe_regularisations=[1000.0]")  # the probe alone
    workdir = copy_finished_run(probe_run[0], tmp_path / "copy")
    shutil.copyfile(other / PROBE, workdir / PROBE)
    stderr = _refused(workdir)
    assert not (workdir / "results/metrics.csv").exists()
    assert (
        f"ERROR: {PROBE} is not the linear probe the configuration asks for: regularisations is "
        "[1000.0], expected [0.1, 0.01, 0.001, 0.0001, 1e-05]. It comes from another run (a file "
        "copied, restored or edited), so metrics from it would not describe this configuration. "
        f"Fix: rerun that job with `snakemake --forcerun {PROBE}` (with your usual "
        f"--configfile/--config), or delete {PROBE} and rerun snakemake."
    ) in stderr
    snakemake(workdir, METRICS, "--forcerun", PROBE)  # the fix the message gives, to the metrics
    chosen = _metrics(workdir)[MODEL, "linear_probe"]["probe_regularisation"]
    assert chosen in {"0.1", "0.01", "0.001", "0.0001", "1e-05"}


def test_training_features_over_the_test_features_are_named_and_their_fix_works(
    probe_run, tmp_path
):
    # Issue 24: the probe job took them; the metrics blamed the probe file, and deleting it as
    # told gave the same error again.
    workdir = copy_finished_run(probe_run[0], tmp_path / "copy")
    train = f"results/features/{MODEL}/fp32/train.parquet"
    shutil.copyfile(workdir / train, workdir / TEST_FEATURES)
    metrics = (workdir / "results/metrics.csv").read_bytes()
    stderr = _refused(workdir)
    # Refused in the probe job: the metrics job never started, so its finished file stays.
    assert (workdir / "results/metrics.csv").read_bytes() == metrics
    assert (
        f"ERROR: {TEST_FEATURES} holds features of the 1000 training images of "
        "data/synthetic/train_set.npz, not of the 40 test images its run scored "
        f"(results/timing/cifar10/{MODEL}/fp32.parquet). It was copied, restored or edited"
    ) in stderr
    assert (
        f"Fix: rerun the job that writes it with `snakemake --forcerun {TEST_FEATURES}`" in stderr
    )
    snakemake(workdir, METRICS, "--forcerun", TEST_FEATURES)  # the fix given, to the metrics
    assert float(_metrics(workdir)[MODEL, "linear_probe"]["top1"]) >= 0.8


@pytest.mark.parametrize(
    ("deleted", "rebuilt_by"),
    [
        (f"results/features/cifar10/{MODEL}/fp32/test.parquet", "inference_with_features"),
        (f"results/features/{MODEL}/fp32/train.parquet", "train_features"),
        (f"results/features/{MODEL}/fp32/train_timing.parquet", "train_features"),
        (f"results/probe/cifar10/{MODEL}/fp32.parquet", "linear_probe"),
        (f"results/probe/{MODEL}/fp32.fit.npz", "linear_probe"),
        ("data/synthetic/train_set.npz", "train_set"),
    ],
)
def test_a_missing_probe_file_is_rebuilt_by_a_plain_rerun(probe_run, tmp_path, deleted, rebuilt_by):
    # As a --forcerun job killed half-way leaves it: Snakemake deleted the job's outputs.
    workdir = copy_finished_run(probe_run[0], tmp_path / "copy")
    (workdir / deleted).unlink()
    jobs = planned_jobs(workdir)
    assert jobs.get(rebuilt_by) == 1 and jobs.get("linear_probe") == 1, jobs
    assert jobs.get("metrics") == 1, jobs


def test_a_cut_training_set_is_refused_before_any_job_in_one_line(probe_run, tmp_path):
    workdir = copy_finished_run(probe_run[0], tmp_path / "copy")
    train_set = workdir / "data/synthetic/train_set.npz"
    train_set.write_bytes(train_set.read_bytes()[:5000])
    (workdir / f"results/features/{MODEL}/fp32/train.parquet").unlink()  # so a job reads it
    results = {path: path.stat().st_mtime_ns for path in (workdir / "results").rglob("*")}
    result = snakemake(workdir, check=False)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "ERROR: Training set data/synthetic/train_set.npz is not a readable .npz (File is not a "
        "zip file). Fix: delete data/synthetic/train_set.npz and rerun snakemake to rebuild it "
        "from the archive."
    )
    assert {path: path.stat().st_mtime_ns for path in (workdir / "results").rglob("*")} == results
    train_set.unlink()  # the fix the message gives
    jobs = planned_jobs(workdir)
    assert jobs.get("train_set") == 1 and jobs.get("train_features") == 1, jobs


# The finished probe run with both shifted sets added: the probe fitted on CIFAR-10 scores them.
SHIFT_CONFIG = {
    **PROBE_CONFIG,
    "test_sets": ["cifar10", "cifar10.1", "cifar10-c"],
    "corruptions": ["contrast"],
    "severities": [1, 5],
    "shift_limit": 20,
}
FIT = f"results/probe/{MODEL}/fp32.fit.npz"


@pytest.fixture(scope="module")
def probe_shift_run(probe_run, tmp_path_factory):
    workdir = copy_finished_run(probe_run[0], tmp_path_factory.mktemp("probe_shift") / "run")
    kept = {name: (workdir / name).read_bytes() for name in (PROBE, FIT)}
    write_config(workdir, SHIFT_CONFIG)
    jobs = planned_jobs(workdir)
    # Each shifted set: one inference job that also writes its features, and the stored probe
    # applied to them; no model of CIFAR-10 is rerun and the probe is not refitted.
    assert jobs.get("inference_with_features") == 2 and jobs.get("probe_scores") == 2
    others = MODEL_JOBS - {"inference_with_features"}
    assert not set(jobs) & (others | {"linear_probe", "few_shot"}), jobs
    snakemake(workdir)
    return workdir, kept


def test_the_cifar10_probe_scores_the_shifted_sets_unchanged_and_unrefitted(probe_shift_run):
    workdir, kept = probe_shift_run
    assert {name: (workdir / name).read_bytes() for name in kept} == kept
    metrics = read_metrics_csv(workdir / "results/metrics.csv")
    probe = metrics[metrics["method"] == "linear_probe"]
    assert sorted(zip(probe["test_set"], probe["corruption"].fillna(""), strict=True)) == [
        ("cifar10", ""),
        ("cifar10-c", "contrast"),
        ("cifar10-c", "contrast"),
        ("cifar10.1", ""),
    ]
    # The probe's fit is CIFAR-10's on every set: one regularisation, one validation top-1.
    assert probe["probe_regularisation"].nunique() == 1
    assert probe["probe_validation_top1"].nunique() == 1
    robustness = pd.read_csv(workdir / "results/robustness.csv")
    assert set(robustness.loc[robustness["method"] == "linear_probe", "test_set"]) == {
        "cifar10.1",
        "cifar10-c",
    }
    summary = (workdir / "results/summary.md").read_text()
    assert f"| {MODEL} | fp32 | linear_probe | cifar10-c |" in summary


def test_a_shifted_probe_rows_top1_recomputed_from_the_stored_fit_and_features(probe_shift_run):
    workdir = probe_shift_run[0]
    metrics = read_metrics_csv(workdir / "results/metrics.csv")
    row = metrics[
        (metrics["method"] == "linear_probe")
        & (metrics["test_set"] == "cifar10-c")
        & (metrics["severity"] == 5)
    ].iloc[0]
    fit = read_probe_fit(workdir / FIT)
    features = read_features(workdir / f"results/features/cifar10-c/{MODEL}/fp32/test.parquet")
    order = np.argsort(features.image_index)
    block = features.values[order][20:40]  # contrast at severity 1, then at 5: the second block
    scores = ((block - fit.mean) / fit.std) @ fit.weight.T + fit.bias
    _, labels = load_image_set(
        workdir / "data/synthetic/cifar10-c/contrast/severity5.npz", ImageSet.TEST
    )
    assert row["images"] == 20
    assert row["top1"] == pytest.approx(np.mean(scores.argmax(axis=1) == labels[:20]), abs=1e-6)


def test_editing_the_corruption_list_refits_no_probe(probe_shift_run):
    workdir = probe_shift_run[0]
    assert planned_jobs(workdir) == {}
    jobs = planned_jobs(workdir, "--config", "corruptions=[contrast,pixelate]")
    assert jobs.get("inference_with_features") == 1 and jobs.get("probe_scores") == 1
    others = MODEL_JOBS - {"inference_with_features"}
    assert not set(jobs) & (others | {"linear_probe", "few_shot"}), jobs
