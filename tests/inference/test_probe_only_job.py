"""A timm model whose head is not ImageNet-1k's, which the linear probe alone scores: its test-set
job writes features and timing, no logits; its training features and probe follow as for any
model, and the metrics score its run with the probe and not with the class mapping.

mobilenetv3_large_100.miil_in21k (ImageNet-21k-P's head of 11,221 classes; 0.2 GFLOPs per image,
the cheapest such tag), untrained, on 10 test and 30 training images
(the CPU forward is most of the time).
"""

from pathlib import Path

import numpy as np
import pytest
from run_files import cpu_request

from cifar_zeroshot.analysis.evaluation import read_runs, score_runs
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.data.image_set import ImageSet
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.request import JobKind, check_request
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.methods.interface import MethodInputs
from cifar_zeroshot.methods.probe.job import ProbeInputs, run_probe
from cifar_zeroshot.methods.probe.method import LinearProbeMethod
from cifar_zeroshot.methods.probe.settings import ProbeRequest, ProbeSettings
from cifar_zeroshot.records.features import read_features
from cifar_zeroshot.records.logits import read_timing

SLUG = "timm-mobilenetv3_large_100.miil_in21k"
TEST, TRAIN = 10, 30
WIDTH = 1280  # what its classifier reads: the pre-logits features
SETTINGS = ProbeSettings(
    validation_fraction=0.34, regularisations=(1e-2, 1.0), max_iterations=50, seed=0
)


def _image_set(path: Path, count: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
    np.savez(path, images=images, labels=(np.arange(count) % 10).astype(np.uint8))
    return path


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The run's test features and timing, and its probe file, as the workflow leaves them."""
    out = tmp_path_factory.mktemp("probe_only")
    features = out / "features" / SLUG / "fp32"
    test_request = cpu_request(
        SLUG,
        _image_set(out / "test_set.npz", TEST, 1),
        out,
        logits_path=None,
        features_path=features / "test.parquet",
        batch_size=10,
        warmup_batches=0,
    )
    assert check_request(test_request) is JobKind.TEST_FEATURES
    run_inference(test_request)
    train_set = _image_set(out / "train_set.npz", TRAIN, 2)
    run_inference(
        cpu_request(
            SLUG,
            train_set,
            out,
            logits_path=None,
            features_path=features / "train.parquet",
            timing_path=features / "train_timing.parquet",
            image_set=ImageSet.TRAINING,
            batch_size=10,
            warmup_batches=0,
        )
    )
    probe = out / "probe" / SLUG / "fp32.parquet"
    inputs = ProbeInputs(
        train_features=features / "train.parquet",
        train_timing=features / "train_timing.parquet",
        test_features=test_request.features_path,
        test_timing=test_request.timing_path,
        train_set=train_set,
    )
    run_probe(inputs, SETTINGS, probe)
    return test_request.features_path, test_request.timing_path, probe


def test_its_test_job_writes_features_and_timing_and_no_logits(probed) -> None:
    features_path, timing_path, _ = probed
    features = read_features(features_path)
    assert features.values.shape == (TEST, WIDTH)
    assert np.isfinite(features.values).all() and features.values.std() > 0
    timing = read_timing(timing_path)
    assert timing.facts == features.facts and timing.facts.weights == "none"
    assert timing.facts.parameters is not None  # counted with its 11,221-class head
    assert not list(features_path.parents[3].glob("logits/**/*.parquet"))


def test_the_metrics_score_it_by_the_probe_not_the_class_mapping(probed) -> None:
    features_path, timing_path, probe = probed
    stored = read_runs([(features_path, timing_path)])
    [run] = stored
    assert run.outputs.logits is None and run.outputs.embeddings is None
    groups = [np.array([k]) for k in range(10)]
    probe_method = LinearProbeMethod.configured(
        MethodInputs(
            groups=groups,
            pooling="max_logit",
            probe_files={(SLUG, "fp32"): probe},
            probe_request=ProbeRequest(SETTINGS, TRAIN).to_params(),
        )
    )
    assert probe_method is not None
    results = score_runs(stored, [ClassMappingMethod(groups, "max_logit"), probe_method])
    assert [result.run_key for result in results] == [(SLUG, "fp32", "linear_probe")]
    assert 0 <= results[0].correct[1] <= TEST


def test_a_logits_job_of_it_is_refused_naming_the_fine_tuned_tag(tmp_path: Path) -> None:
    """As planning refuses it: a job run by hand must not write 21,843 'ImageNet' logits."""
    request = cpu_request(SLUG, _image_set(tmp_path / "t.npz", TEST, 1), tmp_path, Variant("fp32"))
    with pytest.raises(UserError, match=r"11,221 classes.*miil_in21k_ft_in1k\.$"):
        run_inference(request)
    assert not request.logits_path.exists() and not request.timing_path.exists()
