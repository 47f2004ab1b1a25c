"""Tests for cifar_zeroshot.methods.probe.fit (with probe_settings and probe_data): the probe agrees
with scikit-learn, is deterministic, chooses λ on held-out images, and refuses bad input."""

import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.probe.data import stratified_split
from cifar_zeroshot.methods.probe.fit import ProbeFit, fit_probe, probe_scores
from cifar_zeroshot.methods.probe.settings import ProbeSettings

GRID = (1.0, 0.1, 0.01, 0.001, 0.0001)
SETTINGS = ProbeSettings(0.2, GRID, 500, seed=0)


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    # The problems here are tiny: a second thread mostly waits for a busy core.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _blobs(
    seed: int, per_class: int, width: int, spread: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train x, train y, test x, test y): Gaussian classes around random means, float32
    features of unequal scales and offsets (so standardisation matters), shuffled labels."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, spread, (10, width))
    scales = np.exp(rng.normal(0.0, 1.0, width))
    offsets = rng.normal(0.0, 5.0, width)

    def draw(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.repeat(np.arange(10), count))
        features = (means[labels] + rng.normal(0.0, 1.0, (len(labels), width))) * scales
        return (features + offsets).astype(np.float32), labels

    return *draw(per_class), *draw(per_class)


def _accuracy(fit: ProbeFit, features: np.ndarray, labels: np.ndarray) -> float:
    return float((probe_scores(fit, features).argmax(axis=1) == labels).mean())


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return _blobs(seed=1, per_class=150, width=40, spread=0.45)


@pytest.fixture(scope="module")
def fitted(blobs) -> ProbeFit:
    return fit_probe(blobs[0], blobs[1], SETTINGS)


def test_the_probe_agrees_with_scikit_learn(blobs, fitted):
    train_x, train_y, test_x, test_y = blobs
    # The same objective: C = 1 / (λ n) on the same standardised features.
    standardise = lambda x: ((x - fitted.mean) / fitted.std).astype(np.float64)  # noqa: E731
    reference = LogisticRegression(
        C=1.0 / (fitted.regularisation * len(train_y)), tol=1e-10, max_iter=10_000
    ).fit(standardise(train_x), train_y)
    ours = _accuracy(fitted, test_x, test_y)
    theirs = reference.score(standardise(test_x), test_y)
    assert 0.7 < theirs < 0.9  # a problem where the answer is not trivial
    assert abs(ours - theirs) <= 0.005
    scale = np.abs(reference.coef_).max()
    np.testing.assert_allclose(fitted.weight, reference.coef_, atol=2e-3 * scale)
    probabilities = torch.softmax(torch.from_numpy(probe_scores(fitted, test_x)), dim=1)
    np.testing.assert_allclose(
        probabilities.numpy(), reference.predict_proba(standardise(test_x)), atol=0.01
    )
    assert fitted.gradient_max < 1e-4 and fitted.iterations < SETTINGS.max_iterations


def test_the_fit_records_the_search(blobs, fitted):
    train_x = blobs[0]
    assert fitted.weight.shape == (10, 40) and fitted.weight.dtype == np.float32
    assert fitted.bias.shape == (10,) and fitted.bias.dtype == np.float32
    np.testing.assert_allclose(fitted.mean, train_x.mean(axis=0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(fitted.std, train_x.std(axis=0), rtol=1e-4)
    assert fitted.regularisations == GRID and len(fitted.validation_accuracies) == len(GRID)
    best = fitted.regularisations.index(fitted.regularisation)
    assert fitted.validation_accuracy == fitted.validation_accuracies[best]
    assert fitted.validation_accuracy == max(fitted.validation_accuracies)
    assert all(0 < n <= SETTINGS.max_iterations for n in fitted.search_iterations)
    assert math.isfinite(fitted.loss) and fitted.seconds > 0


def test_the_fit_is_deterministic_and_leaves_its_input_alone(blobs, fitted):
    train_x, train_y, test_x, _ = blobs
    copy = train_x.copy()
    again = fit_probe(train_x, train_y, SETTINGS)
    np.testing.assert_array_equal(train_x, copy)
    for name in ("weight", "bias", "mean", "std"):
        assert np.array_equal(getattr(again, name), getattr(fitted, name)), name
    assert again.validation_accuracies == fitted.validation_accuracies
    assert np.array_equal(probe_scores(again, test_x), probe_scores(fitted, test_x))


def test_probe_scores_are_the_standardised_linear_map(blobs, fitted):
    test_x = blobs[2]
    scores = probe_scores(fitted, test_x)
    expected = ((test_x - fitted.mean) / fitted.std) @ fitted.weight.T + fitted.bias
    assert scores.shape == (len(test_x), 10) and scores.dtype == np.float32
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4)
    # Features stored as float16 score as their float32 values do.
    halves = test_x.astype(np.float16)
    np.testing.assert_array_equal(
        probe_scores(fitted, halves), probe_scores(fitted, halves.astype(np.float32))
    )


def _nuisance_problem(seed: int, per_class: int) -> tuple[np.ndarray, ...]:
    """The class signal s sits in feature 0 under a loud nuisance n that feature 1 measures
    alone: [s + n, n, noise...]. Only a weakly regularised probe learns to subtract them."""
    rng = np.random.default_rng(seed)

    def draw() -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.repeat(np.arange(10), per_class))
        signal = labels * 1.0 + rng.normal(0.0, 0.3, len(labels))
        nuisance = rng.normal(0.0, 5.0, len(labels))
        noise = rng.normal(0.0, 1.0, (len(labels), 3))
        features = np.column_stack([signal + nuisance, nuisance, noise])
        return features.astype(np.float32), labels

    return *draw(), *draw()


def test_a_weak_regularisation_is_chosen_where_strong_one_underfits():
    train_x, train_y, test_x, test_y = _nuisance_problem(seed=2, per_class=60)
    fit = fit_probe(train_x, train_y, SETTINGS)
    assert fit.regularisation <= 0.001
    assert fit.validation_accuracies[0] < fit.validation_accuracy - 0.3  # λ = 1 underfits
    assert _accuracy(fit, test_x, test_y) > 0.7


def test_a_strong_regularisation_is_chosen_where_weak_one_overfits():
    # Fewer images than features, and 30% of the training labels wrong: a weak λ learns them.
    train_x, train_y, test_x, test_y = _blobs(seed=3, per_class=40, width=300, spread=0.3)
    rng = np.random.default_rng(9)
    wrong = rng.random(len(train_y)) < 0.3
    train_y = np.where(wrong, rng.integers(0, 10, len(train_y)), train_y)
    fit = fit_probe(train_x, train_y, SETTINGS)
    assert fit.regularisation >= 0.1
    assert fit.validation_accuracies[-1] < fit.validation_accuracy - 0.05
    weakest = fit_probe(train_x, train_y, ProbeSettings(0.2, (GRID[-1],), 500, seed=0))
    assert _accuracy(fit, test_x, test_y) > _accuracy(weakest, test_x, test_y) + 0.1


def test_ties_go_to_the_stronger_regularisation():
    # Far-apart classes: every λ classifies the held-out images perfectly.
    train_x, train_y, _, _ = _blobs(seed=4, per_class=20, width=10, spread=10.0)
    settings = ProbeSettings(0.25, (1e-4, 1e-2, 1.0), 200, seed=0)
    fit = fit_probe(train_x, train_y, settings)
    assert fit.validation_accuracies == (1.0, 1.0, 1.0)
    assert fit.regularisations == (1.0, 1e-2, 1e-4) and fit.regularisation == 1.0


def test_a_constant_feature_is_left_out_rather_than_divided_by_zero(blobs):
    train_x, train_y, test_x, test_y = blobs
    padded = np.column_stack([train_x, np.full(len(train_x), 3.5, np.float32)])
    fit = fit_probe(padded, train_y, SETTINGS)
    assert fit.std[-1] == 1.0 and fit.mean[-1] == 3.5
    assert np.all(np.isfinite(fit.weight)) and np.all(fit.weight[:, -1] == 0.0)
    padded_test = np.column_stack([test_x, np.full(len(test_x), 3.5, np.float32)])
    assert _accuracy(fit, padded_test, test_y) > 0.7


def test_features_that_are_all_constant_are_refused():
    # As untrained mobilenet_v3_small's features (about 1e-9) become when stored as float16.
    features, labels = _small()
    tiny = (features * 1e-9).astype(np.float16)
    assert not tiny.any()
    message = _refused("All 4 training features have the same value for every image", tiny, labels)
    assert "float16" in message


def test_the_split_is_stratified_seeded_and_disjoint():
    labels = np.repeat(np.arange(10), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    fit_rows, held = stratified_split(labels, 0.2, seed=5)
    assert np.bincount(labels[held]).tolist() == [2, 2, 2, 3, 3, 3, 3, 3, 4, 4]
    assert sorted([*fit_rows, *held]) == list(range(len(labels)))
    assert np.array_equal(held, stratified_split(labels, 0.2, seed=5)[1])
    assert not np.array_equal(held, stratified_split(labels, 0.2, seed=6)[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_fit_agrees_with_the_cpu_fit(blobs, fitted):
    train_x, train_y, test_x, test_y = blobs
    on_gpu = fit_probe(train_x, train_y, SETTINGS, device="cuda")
    assert on_gpu.regularisation == fitted.regularisation
    np.testing.assert_allclose(on_gpu.weight, fitted.weight, atol=1e-3)
    assert abs(_accuracy(on_gpu, test_x, test_y) - _accuracy(fitted, test_x, test_y)) <= 0.005
    again = fit_probe(train_x, train_y, SETTINGS, device="cuda")
    assert np.array_equal(again.weight, on_gpu.weight)


# --- refusals ----------------------------------------------------------------------------------


def _refused(match: str, features: np.ndarray, labels: np.ndarray) -> str:
    with pytest.raises(UserError, match=match) as caught:
        fit_probe(features, labels, SETTINGS)
    assert "Fix:" in str(caught.value)
    return str(caught.value)


def _small() -> tuple[np.ndarray, np.ndarray]:
    labels = np.repeat(np.arange(10), 5)
    return np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32), labels


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features_are_refused(bad):
    features, labels = _small()
    features[17, 2] = bad
    _refused(
        r"training features hold NaN or infinite values \(first in image 17\)", features, labels
    )


def test_fewer_than_two_classes_or_a_missing_class_is_refused():
    features, labels = _small()
    message = _refused("images of 1 of the 10 classes", features, np.zeros(50, np.int64))
    assert "automobile" in message and "truck" in message
    message = _refused("images of 9 of the 10 classes", features, np.where(labels == 3, 4, labels))
    assert "(none of cat)" in message


def test_too_few_images_per_class_for_the_split_are_refused():
    labels = np.repeat(np.arange(10), 2)
    features = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    _refused(
        "Class 'airplane' has 2 training images, which linear_probe_validation_fraction=0.2 "
        "splits into 2 to fit and 0 to validate",
        features,
        labels,
    )


@pytest.mark.parametrize(
    ("features", "labels", "match"),
    [
        (np.zeros((50, 4), np.int64), np.repeat(np.arange(10), 5), "int64, not a float array"),
        (np.zeros(50, np.float32), np.repeat(np.arange(10), 5), r"shape \(50,\)"),
        (np.zeros((50, 0), np.float32), np.repeat(np.arange(10), 5), r"shape \(50, 0\)"),
        (np.zeros((50, 4), np.float32), np.repeat(np.arange(10), 4), "not one integer label"),
        (np.zeros((50, 4), np.float32), np.repeat(np.arange(10.0), 5), "not one integer label"),
        (np.zeros((50, 4), np.float32), np.repeat(np.arange(1, 11), 5), "from 1 to 10, outside"),
        (np.zeros((50, 4), np.float32), np.repeat(np.arange(-1, 9), 5), "from -1 to 8, outside"),
    ],
    ids=["int-features", "1d", "no-width", "label-count", "float-labels", "label-10", "label-1"],
)
def test_malformed_inputs_are_refused(features, labels, match):
    _refused(match, features, labels)


def test_scoring_features_of_another_width_or_non_finite_is_refused(blobs, fitted):
    test_x = blobs[2]
    with pytest.raises(UserError) as caught:
        probe_scores(fitted, test_x[:, :39])
    assert "have 39 values per image but the probe was fitted on 40" in str(caught.value)
    assert "Fix:" in str(caught.value)
    broken = test_x.copy()
    broken[3, 0] = np.nan
    with pytest.raises(UserError, match=r"scored features hold NaN .*image 3\)"):
        probe_scores(fitted, broken)


# --- settings ----------------------------------------------------------------------------------


def test_settings_store_the_grid_strongest_first():
    settings = ProbeSettings(0.2, [1e-4, 1e-2, 1], 100, 0)
    assert settings.regularisations == (1.0, 1e-2, 1e-4)
    assert settings == ProbeSettings(0.2, (1, 1e-4, 1e-2), 100, 0)


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("validation_fraction", 0, "linear_probe_validation_fraction"),
        ("validation_fraction", 1.0, "linear_probe_validation_fraction"),
        ("validation_fraction", -0.1, "linear_probe_validation_fraction"),
        ("validation_fraction", True, "linear_probe_validation_fraction"),
        ("validation_fraction", "0.2", "linear_probe_validation_fraction"),
        ("regularisations", (), "linear_probe_regularisations"),
        ("regularisations", 0.1, "linear_probe_regularisations"),
        ("regularisations", "0.1", "linear_probe_regularisations"),
        ("regularisations", (0.1, 0.0), "linear_probe_regularisations"),
        ("regularisations", (-1.0,), "linear_probe_regularisations"),
        ("regularisations", (math.nan,), "linear_probe_regularisations"),
        ("regularisations", (math.inf,), "linear_probe_regularisations"),
        ("regularisations", (True,), "linear_probe_regularisations"),
        ("regularisations", (0.1, 0.1), "linear_probe_regularisations lists a value twice"),
        ("max_iterations", 0, "linear_probe_max_iterations"),
        ("max_iterations", 10.0, "linear_probe_max_iterations"),
        ("max_iterations", True, "linear_probe_max_iterations"),
        ("seed", -1, "linear_probe_seed"),
        ("seed", 1.5, "linear_probe_seed"),
        ("seed", False, "linear_probe_seed"),
    ],
)
def test_bad_settings_are_refused_naming_the_config_key(field, value, key):
    values = {
        "validation_fraction": 0.2,
        "regularisations": (0.1,),
        "max_iterations": 10,
        "seed": 0,
    } | {field: value}
    with pytest.raises(UserError, match=key) as caught:
        ProbeSettings(**values)
    assert "Fix:" in str(caught.value) and "in the config" in str(caught.value)
