"""The fitted linear probe on disk (records.probe_fit): kept whole, refused when damaged."""

import dataclasses

import numpy as np
import pytest
from run_files import make_facts

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.records.probe_fit import StoredProbe, read_probe_fit, write_probe_fit
from cifar_zeroshot.records.probe_scores import ProbeRecord

WIDTH = 6
RECORD = ProbeRecord(
    regularisation=0.01,
    validation_accuracy=0.9,
    regularisations=[0.1, 0.01],
    validation_accuracies=[0.8, 0.9],
    validation_fraction=0.2,
    max_iterations=100,
    seed=0,
    iterations=12,
    fit_seconds=0.5,
    train_images=100,
    feature_width=WIDTH,
    train_images_per_second=None,
    train_host_peak_rss_bytes=2**20,
    train_torch_peak_allocated_bytes=None,
)


def _probe(**changes) -> StoredProbe:
    rng = np.random.default_rng(0)
    probe = StoredProbe(
        weight=rng.normal(size=(10, WIDTH)).astype(np.float32),
        bias=rng.normal(size=10).astype(np.float32),
        mean=rng.normal(size=WIDTH).astype(np.float32),
        std=rng.uniform(0.5, 2, size=WIDTH).astype(np.float32),
        facts=make_facts(image_count=20),
        record=RECORD,
    )
    return dataclasses.replace(probe, **changes)


def test_the_fit_round_trips_bit_for_bit(tmp_path):
    path = tmp_path / "fp32.fit.npz"
    write_probe_fit(path, _probe())
    read = read_probe_fit(path)
    for name in ("weight", "bias", "mean", "std"):
        np.testing.assert_array_equal(getattr(read, name), getattr(_probe(), name))
        assert getattr(read, name).dtype == np.float32
    assert read.facts == make_facts(image_count=20) and read.record == RECORD
    assert [p.name for p in tmp_path.iterdir()] == ["fp32.fit.npz"]  # no temp file left


FIX = (
    ", so it is not a fitted probe this workflow wrote. Fix: delete it and rerun snakemake "
    "(the probe is fitted again on CIFAR-10's training features only)."
)


@pytest.mark.parametrize(
    ("probe", "problem"),
    [
        (
            _probe(weight=np.zeros((10, WIDTH + 1), np.float32)),
            "has weight float32 (10, 7), expected float32 (10, 6)",
        ),
        (_probe(bias=np.zeros(10, np.float64)), "has bias float64 (10,), expected float32 (10,)"),
        (_probe(std=np.zeros(WIDTH, np.float32)), "has a standard deviation that is not positive"),
        (_probe(mean=np.full(WIDTH, np.nan, np.float32)), "has NaN or infinite values in mean"),
    ],
)
def test_a_fit_of_wrong_shapes_or_values_is_refused(tmp_path, probe, problem):
    path = tmp_path / "fp32.fit.npz"
    write_probe_fit(path, probe)
    if probe.bias.dtype != np.float32:  # the writer stores float32: plant the wrong one by hand
        np.savez(
            path,
            **{n: getattr(probe, n) for n in ("weight", "bias", "mean", "std")},
            facts=np.array(probe.facts.to_json()),
            record=np.array(RECORD.to_json()),
        )
    with pytest.raises(UserError) as caught:
        read_probe_fit(path)
    assert str(caught.value) == f"{path} {problem}{FIX}"


def test_a_cut_or_foreign_file_is_refused_in_one_line(tmp_path):
    path = tmp_path / "fp32.fit.npz"
    write_probe_fit(path, _probe())
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(UserError, match=rf"^{path} is not a readable \.npz \("):
        read_probe_fit(path)
    np.savez(path, weight=np.zeros((10, WIDTH), np.float32))
    with pytest.raises(UserError, match=f"^{path} lacks the arrays bias, mean, std, facts, record"):
        read_probe_fit(path)
    with pytest.raises(UserError, match="does not exist. Run snakemake to create it"):
        read_probe_fit(tmp_path / "missing.fit.npz")
