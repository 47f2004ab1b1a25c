"""The real sample through the whole workflow, held against an independent computation.

config/presets/real-sample.yaml scores resources/real-sample/'s 1,000 real CIFAR-10 test images
with the real SqueezeNet 1.0. The reference here uses none of the package's preprocessing or
scoring code: PIL decoding and torchvision's own transforms, the class mapping read from its
YAML, the pooling written out below. The workflow's top-1, per-class accuracy and per-image
predictions must agree with it.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
import yaml
from PIL import Image
from safetensors.torch import load_file
from workflow_runner import REPO, copy_workflow, snakemake

from cifar_zeroshot.records.logits import read_logits

pytestmark = pytest.mark.e2e

SAMPLE = REPO / "resources/real-sample"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _independent_logits(images: np.ndarray) -> np.ndarray:
    """SqueezeNet 1.0's ImageNet logits through PIL and torchvision's transforms."""
    model = torchvision.models.squeezenet1_0(weights=None)
    weights = load_file(SAMPLE / "squeezenet1_0-deep-compression.safetensors")
    model.load_state_dict(weights, strict=True)
    model.eval()
    transform = torchvision.models.SqueezeNet1_0_Weights.DEFAULT.transforms()
    batches = []
    with torch.no_grad():
        for start in range(0, len(images), 100):
            batch = torch.stack(
                [transform(Image.fromarray(i)) for i in images[start : start + 100]]
            )
            batches.append(model(batch).double().numpy())
    return np.concatenate(batches)


def _max_logit_scores(logits: np.ndarray, mapping_yaml: Path) -> np.ndarray:
    """[images, 10]: each CIFAR-10 class's largest logit among its mapped ImageNet ones."""
    classes = yaml.safe_load(mapping_yaml.read_text())["classes"]
    groups = [[member["index"] for member in classes[name]["imagenet"]] for name in CLASSES]
    return np.stack([logits[:, group].max(axis=1) for group in groups], axis=1)


def _max_logit_predictions(logits: np.ndarray, mapping_yaml: Path) -> np.ndarray:
    """Each image's CIFAR-10 class: the largest logit among each class's mapped ImageNet ones."""
    return _max_logit_scores(logits, mapping_yaml).argmax(axis=1)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory) -> Path:
    workdir = copy_workflow(tmp_path_factory.mktemp("real"))
    preset = yaml.safe_load((REPO / "config/presets/real-sample.yaml").read_text())
    (workdir / "test-config.yaml").write_text(yaml.safe_dump({**preset, "threads": 2}))
    snakemake(workdir)
    return workdir


# The images held against torchvision: the first 20 of each class, 200 of the 1,000. The faults
# this comparison catches (decoding, resizing, cropping, normalisation, channel order, the
# weights, the class mapping, the pooling) act on every image, and on all 1,000 the workflow's
# predictions equal torchvision's (its logits within 2.1e-5), so on these 200 they must be
# equal image by image; the workflow's tables are held against its stored logits on all 1,000.
COMPARED_PER_CLASS = 20
# The logits must agree to this; two classes whose pooled scores are closer than twice it are a
# tie that another CPU's kernels may break either way, so only there may the predictions differ.
LOGIT_TOLERANCE = 1e-3


def test_the_workflow_agrees_with_torchvision_image_by_image(real_run):
    images = np.load(SAMPLE / "cifar10_test_0-999_images.npy", allow_pickle=False)
    labels = np.load(SAMPLE / "cifar10_test_0-999_labels.npy", allow_pickle=False)
    compared = np.sort(
        np.concatenate([np.flatnonzero(labels == k)[:COMPARED_PER_CLASS] for k in range(10)])
    )
    assert len(compared) == 10 * COMPARED_PER_CLASS  # every class, equally
    independent = _independent_logits(images[compared])
    scores = _max_logit_scores(independent, REPO / "config/class_mapping.yaml")
    expected = scores.argmax(axis=1)
    second, first = np.sort(scores, axis=1)[:, -2:].T
    near_tie = first - second < 2 * LOGIT_TOLERANCE

    [logits_file] = real_run.glob("results/logits/real-sample/squeezenet1_0.file-*/fp32.parquet")
    stored = read_logits(logits_file)
    order = np.argsort(stored.image_index)
    assert np.array_equal(stored.labels[order], labels)
    logits = stored.logits[order].astype(np.float64)
    np.testing.assert_allclose(logits[compared], independent, rtol=0, atol=LOGIT_TOLERANCE)
    ours = _max_logit_predictions(logits, REPO / "config/class_mapping.yaml")
    disagree = np.flatnonzero((ours[compared] != expected) & ~near_tie)
    assert disagree.size == 0, f"images {compared[disagree]} are predicted otherwise"

    metrics = pd.read_csv(real_run / "results/metrics.csv")
    row = metrics[metrics["method"] == "class_mapping"].iloc[0]
    # The package's scoring gives the top-1 of the pooling written out here...
    assert row["top1"] == pytest.approx((ours == labels).mean(), abs=1e-9)
    # ...and the independent computation the same on the compared images (but for near ties).
    right_ours, right_expected = ours[compared] == labels[compared], expected == labels[compared]
    assert np.array_equal(right_ours[~near_tie], right_expected[~near_tie])
    per_class = pd.read_csv(real_run / "results/per_class.csv")
    per_class = per_class[per_class["method"] == "class_mapping"].set_index("cifar_class")
    for k, name in enumerate(CLASSES):
        members = labels == k
        assert per_class.loc[name, "images"] == members.sum()
        # Counted from the stored logits, which agree with torchvision's image by image above.
        assert per_class.loc[name, "correct"] == (ours[members] == k).sum(), name


def test_figures_and_summary_say_what_they_were_made_from(real_run):
    summary = (real_run / "results/summary.md").read_text()
    made_from = "1,000 real CIFAR-10 test images; SqueezeNet 1.0 (Deep Compression) weights"
    assert f"Made from: {made_from}." in summary
    assert "Zero-shot accuracy on real CIFAR-10 test images" in summary
    for figure in ("accuracy.png", "per_class.png", "per_class_balanced.png", "speed.png"):
        assert (real_run / "results/plots" / figure).stat().st_size > 10_000
    assert "Nothing to be done" in snakemake(real_run).stderr  # a second run reruns nothing
