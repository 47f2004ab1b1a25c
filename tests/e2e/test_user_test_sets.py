"""Test sets from the user's files, without cifar10: a folder of PNGs and an .npz of arrays.

In a private copy of a finished run, the test writes the two sets' files and lists them alone in
test_sets. The generic rule builds their image sets (recording their files' SHA-256), the one set
of inference rules runs them, and the metrics score them; what needs CIFAR-10 is left out with a
warning. Changing one image of the folder rebuilds that set and reruns its runs alone.
"""

import numpy as np
import pytest
from PIL import Image
from workflow_runner import (
    SMALL_CONFIG,
    copy_finished_run,
    planned_jobs,
    snakemake,
    write_config,
)

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.data.image_set import ImageSet, load_image_set, read_image_origin
from cifar_zeroshot.data.user_image_sets import sources_sha256

pytestmark = pytest.mark.e2e

MODEL = SMALL_CONFIG["models"][0]
IMAGES = 12


@pytest.fixture(scope="module")
def user_sets_run(_pristine_small_run, tmp_path_factory):
    workdir = copy_finished_run(_pristine_small_run, tmp_path_factory.mktemp("usersets") / "run")
    rng = np.random.default_rng(11)
    photos = workdir / "mine/photos"
    for number in range(IMAGES):
        folder = photos / CIFAR10_CLASSES[number % 10]
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{number:02d}.png")
    images = rng.integers(0, 256, (IMAGES, 32, 32, 3), dtype=np.uint8)
    labels = (np.arange(IMAGES) * 3) % 10
    np.savez(workdir / "mine/sample.npz", images=images, labels=labels)
    test_sets = [
        {"name": "my-photos", "path": "mine/photos", "title": "My photos"},
        {"name": "sample", "images": "mine/sample.npz"},
    ]
    write_config(workdir, {**SMALL_CONFIG, "test_sets": test_sets})
    jobs = planned_jobs(workdir)
    result = snakemake(workdir)
    return workdir, jobs, result, images, labels


def test_both_sets_are_built_run_and_scored_without_cifar10(user_sets_run):
    workdir, jobs, result, images, labels = user_sets_run
    assert jobs.get("registered_test_set") == 2 and jobs.get("inference") == 2
    assert "WARNING: config key 'test_sets' lists no cifar10: the robustness table" in (
        result.stderr
    )
    stored, stored_labels = load_image_set(
        workdir / "data/synthetic/sample/test_set.npz", ImageSet.TEST
    )
    assert np.array_equal(stored, images) and np.array_equal(stored_labels, labels)
    origin = read_image_origin(workdir / "data/synthetic/sample/test_set.npz", ImageSet.TEST)
    expected = sources_sha256([("images", workdir / "mine/sample.npz")])
    assert origin.source_sha256 == expected and origin.archive_md5 is None
    photos = load_image_set(workdir / "data/synthetic/my-photos/test_set.npz", ImageSet.TEST)[1]
    assert sorted(photos) == sorted(np.arange(IMAGES) % 10)
    metrics = read_metrics_csv(workdir / "results/metrics.csv")
    assert set(metrics["test_set"]) == {"my-photos", "sample"}
    for name in ("my-photos", "sample"):
        ours = metrics[(metrics["test_set"] == name) & (metrics["method"] == "class_mapping")]
        assert list(ours["images"]) == [IMAGES] and list(ours["model"]) == [MODEL]
    assert not (workdir / "results/robustness.csv").exists()


def test_a_changed_image_rebuilds_its_set_and_reruns_its_runs_alone(user_sets_run):
    workdir = user_sets_run[0]
    assert planned_jobs(workdir) == {}
    # New pixels: Snakemake 9 keeps small inputs' checksums, so a bare touch is no change.
    image = workdir / "mine/photos/cat/img03.png"
    Image.fromarray(np.full((32, 32, 3), 7, dtype=np.uint8)).save(image)
    dry = snakemake(workdir, "--dry-run")
    planned = dry.stdout + dry.stderr
    jobs = planned_jobs(workdir)
    assert jobs.get("registered_test_set") == 1 and jobs.get("inference") == 1, planned
    # What the planned jobs write (the metrics job reads every set, so inputs are not looked at).
    outputs = " ".join(line for line in planned.splitlines() if line.strip().startswith("output:"))
    assert "data/synthetic/my-photos/test_set.npz" in outputs
    assert "results/logits/my-photos/" in outputs
    assert "data/synthetic/sample/" not in outputs and "results/logits/sample/" not in outputs
