"""A fourth test set, added the way docs/development.md says: a registry entry and its reader.

In a private copy of a finished run, the test writes exactly two things into the workflow (a
reader module, and one register() call appended to data/test_sets.py) plus the set's source file,
then asks for the set in test_sets. Nothing else of the workflow is edited: the generic rule
builds its image set, the one set of inference rules runs it, the metrics score it.
"""

import textwrap

import numpy as np
import pandas as pd
import pytest
from workflow_runner import (
    SMALL_CONFIG,
    copy_finished_run,
    planned_jobs,
    snakemake,
    write_config,
)

from cifar_zeroshot.analysis.metrics_tables import read_metrics_csv
from cifar_zeroshot.data.image_set import ImageSet, load_image_set
from cifar_zeroshot.records.logits import read_logits

pytestmark = pytest.mark.e2e

NAME = "tiny-photos"
MODEL = SMALL_CONFIG["models"][0]
IMAGES = 12

READER = '''\
"""Tiny photos: an .npz of images uint8 [N, 32, 32, 3] and labels [N]."""

import hashlib

import numpy as np


def read_tiny_photos(sources):
    path = sources["arrays"]
    with np.load(path, allow_pickle=False) as arrays:
        images, labels = arrays["images"], arrays["labels"].astype(np.uint8)
    return images, labels, hashlib.md5(path.read_bytes()).hexdigest()
'''

ENTRY = f"""

from cifar_zeroshot.data.tiny_photos import read_tiny_photos  # noqa: E402

register(
    TestSet(
        "{NAME}",
        "Tiny photos",
        None,
        "shift_limit",
        sources=lambda dataset: {{"arrays": f"data/{{dataset}}/{NAME}.npz"}},
        reader=read_tiny_photos,
    )
)
"""


@pytest.fixture(scope="module")
def fourth_set_run(_pristine_small_run, tmp_path_factory):
    workdir = copy_finished_run(_pristine_small_run, tmp_path_factory.mktemp("fourth") / "run")
    package = workdir / "workflow/cifar_zeroshot/data"
    (package / "tiny_photos.py").write_text(READER)
    with open(package / "test_sets.py", "a") as registry:
        registry.write(textwrap.dedent(ENTRY))
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (IMAGES, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(IMAGES) % 10
    np.savez(workdir / f"data/synthetic/{NAME}.npz", images=images, labels=labels)
    write_config(workdir, {**SMALL_CONFIG, "test_sets": ["cifar10", NAME]})
    jobs = planned_jobs(workdir)
    snakemake(workdir)
    return workdir, jobs, images, labels


def test_the_new_set_is_built_by_the_generic_rule_and_runs_in_the_one_inference_rule(
    fourth_set_run,
):
    workdir, jobs, images, labels = fourth_set_run
    # Its image set, and one inference job on it; CIFAR-10's finished run is left as it is.
    assert jobs.get("registered_test_set") == 1 and jobs.get("inference") == 1
    stored_images, stored_labels = load_image_set(
        workdir / f"data/synthetic/{NAME}/test_set.npz", ImageSet.TEST
    )
    assert np.array_equal(stored_images, images) and np.array_equal(stored_labels, labels)
    logits = read_logits(workdir / f"results/logits/{NAME}/{MODEL}/fp32.parquet")
    assert np.array_equal(logits.labels, labels) and len(logits.image_index) == IMAGES


def test_the_metrics_score_it_beside_cifar10_in_every_per_run_table(fourth_set_run):
    workdir = fourth_set_run[0]
    metrics = read_metrics_csv(workdir / "results/metrics.csv")
    ours = metrics[(metrics["test_set"] == NAME) & (metrics["method"] == "class_mapping")]
    assert list(ours["images"]) == [IMAGES] and list(ours["model"]) == [MODEL]
    assert set(metrics["test_set"]) == {"cifar10", NAME}
    per_class = pd.read_csv(workdir / "results/per_class.csv", dtype={"test_set": str})
    ours = per_class[(per_class["test_set"] == NAME) & (per_class["method"] == "class_mapping")]
    assert ours["images"].sum() == IMAGES
    robustness = pd.read_csv(workdir / "results/robustness.csv")
    assert set(robustness["test_set"]) == {NAME}
