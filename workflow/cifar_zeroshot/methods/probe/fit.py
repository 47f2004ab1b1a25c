"""A linear probe: multinomial logistic regression on a frozen model's penultimate features.

Features are standardised with the mean and standard deviation of the rows being fitted (a
constant feature keeps standard deviation 1, so it becomes 0). For each L2 strength λ of the
grid, strongest first and each starting from the previous solution, the probe is fitted with
torch's full-batch L-BFGS (float32) on a stratified part of the training set and scored on the
rest; the λ with the best validation accuracy (ties: the stronger) is then refitted on the whole
training set, starting from its split solution. cifar_zeroshot.methods.probe.settings states the
objective and how λ relates to scikit-learn's C.

The gradient is written out rather than taken by autograd: no graph is built at each of the many
evaluations, and it uses only matrix products, softmax and sums (no scatter or gather, whose CUDA
backward kernels use atomics), so the same inputs on the same machine and thread count give
bit-identical fits without switching torch into deterministic mode.
"""

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.methods.probe.data import (
    check_features,
    check_labels,
    one_hot,
    stratified_split,
    to_tensor,
)
from cifar_zeroshot.methods.probe.settings import ProbeSettings

log = logging.getLogger(__name__)

# L-BFGS stops early when every gradient entry is below this, as scikit-learn's lbfgs does by
# default on the same (mean) objective, or when the objective stops changing in float32.
GRADIENT_TOLERANCE = 1e-4
_CHANGE_TOLERANCE = 1e-9
_HISTORY = 20


@dataclass(frozen=True)
class ProbeFit:
    """A fitted probe, scores = ((features - mean) / std) @ weight.T + bias, and its choice."""

    weight: np.ndarray  # float32 [classes, F], on standardised features
    bias: np.ndarray  # float32 [classes]
    mean: np.ndarray  # float32 [F], of the training features
    std: np.ndarray  # float32 [F], of the training features (1 where a feature is constant)
    regularisation: float  # the chosen λ
    validation_accuracy: float  # at the chosen λ, on the held-out images
    regularisations: tuple[float, ...]  # the grid, strongest first (the order fitted)
    validation_accuracies: tuple[float, ...]  # per λ of the grid
    search_iterations: tuple[int, ...]  # per λ of the grid (0: the previous fit already met it)
    iterations: int  # L-BFGS iterations of the final refit
    loss: float  # the refit's objective at its solution
    gradient_max: float  # its largest gradient entry there (0 at the exact optimum)
    seconds: float  # the whole fit: search and refit


@dataclass(frozen=True)
class _Solution:
    theta: torch.Tensor  # weight and bias, flattened: [classes * F + classes]
    iterations: int


def _standardiser(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std) per feature; std 1 where a feature is constant (min == max: exact).

    Refuses features that are all constant: every image looks the same to the probe.
    """
    constant = x.amax(dim=0) == x.amin(dim=0)
    if bool(constant.all()):
        raise UserError(
            f"All {x.shape[1]} training features have the same value for every image, so the "
            "probe has nothing to learn from. Features stored as float16 turn to 0 where the "
            "model's values are smaller than about 3e-8 (untrained models can be). Fix: store "
            "the features as float32, or check the model's penultimate layer."
        )
    mean = x.mean(dim=0)
    std = x.std(dim=0, correction=0)
    return mean, torch.where(constant, torch.ones_like(std), std)


def _split_theta(theta: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    return theta[: NUM_CIFAR10_CLASSES * width].view(NUM_CIFAR10_CLASSES, width), theta[
        NUM_CIFAR10_CLASSES * width :
    ]


def _logits(z: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    weight, bias = _split_theta(theta, z.shape[1])
    return torch.addmm(bias, z, weight.T)


def _objective(
    z: torch.Tensor, targets: torch.Tensor, theta: torch.Tensor, strength: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, gradient) of mean cross-entropy + strength/2 · ||W||² at theta."""
    weight, _ = _split_theta(theta, z.shape[1])
    log_p = torch.log_softmax(_logits(z, theta), dim=1)
    loss = -(log_p * targets).sum() / len(z) + 0.5 * strength * weight.square().sum()
    residual = (log_p.exp_() - targets).div_(len(z)).T.contiguous()  # [classes, N]
    grad_weight = torch.addmm(weight, residual, z, beta=strength)
    return loss, torch.cat([grad_weight.reshape(-1), residual.sum(dim=1)])


def _fit(
    z: torch.Tensor, targets: torch.Tensor, start: torch.Tensor, strength: float, iterations: int
) -> _Solution:
    """Minimise the objective from ``start`` with full-batch L-BFGS (strong Wolfe line search)."""
    theta = start.clone()
    optimizer = torch.optim.LBFGS(
        [theta],
        lr=1.0,
        max_iter=iterations,
        tolerance_grad=GRADIENT_TOLERANCE,
        tolerance_change=_CHANGE_TOLERANCE,
        history_size=_HISTORY,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        loss, theta.grad = _objective(z, targets, theta, strength)
        return loss

    with torch.no_grad():
        optimizer.step(closure)
    return _Solution(theta, int(optimizer.state[theta].get("n_iter", 0)))


def _correct(z: torch.Tensor, labels: torch.Tensor, theta: torch.Tensor) -> int:
    return int((_logits(z, theta).argmax(dim=1) == labels).sum())


def _search(
    features: np.ndarray, labels: np.ndarray, settings: ProbeSettings, device: torch.device
) -> tuple[list[int], list[_Solution], int]:
    """Fit every λ on the split; (correct validation images per λ, solutions, validation size)."""
    fit_rows, validation_rows = stratified_split(
        labels, settings.validation_fraction, settings.seed
    )
    z = to_tensor(features, fit_rows, device)
    mean, std = _standardiser(z)
    z.sub_(mean).div_(std)
    z_validation = to_tensor(features, validation_rows, device).sub_(mean).div_(std)
    validation_labels = torch.as_tensor(labels[validation_rows], device=device)
    targets = one_hot(labels[fit_rows], device)
    theta = torch.zeros(NUM_CIFAR10_CLASSES * (z.shape[1] + 1), device=device)
    correct, solutions = [], []
    for strength in settings.regularisations:
        solution = _fit(z, targets, theta, strength, settings.max_iterations)
        theta = solution.theta
        correct.append(_correct(z_validation, validation_labels, theta))
        solutions.append(solution)
        log.info(
            "lambda=%g: validation accuracy %.4f after %d iterations",
            strength,
            correct[-1] / len(validation_rows),
            solution.iterations,
        )
    return correct, solutions, len(validation_rows)


def fit_probe(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    settings: ProbeSettings,
    device: str | torch.device = "cpu",
) -> ProbeFit:
    """Choose λ on a stratified hold-out split, then fit the probe on all training images."""
    started = time.perf_counter()
    check_features(train_features, "training")
    labels = check_labels(train_labels, len(train_features))
    device = torch.device(device)
    correct, solutions, validation_size = _search(train_features, labels, settings, device)
    # The first best is the strongest of the best: the grid runs strongest first.
    best = correct.index(max(correct))
    strength = settings.regularisations[best]

    z = to_tensor(train_features, None, device)
    mean, std = _standardiser(z)
    z.sub_(mean).div_(std)
    targets = one_hot(labels, device)
    refit = _fit(z, targets, solutions[best].theta, strength, settings.max_iterations)
    with torch.no_grad():
        loss, gradient = _objective(z, targets, refit.theta, strength)
    weight, bias = _split_theta(refit.theta, z.shape[1])
    accuracies = tuple(count / validation_size for count in correct)
    fit = ProbeFit(
        weight=weight.cpu().numpy().copy(),
        bias=bias.cpu().numpy().copy(),
        mean=mean.cpu().numpy(),
        std=std.cpu().numpy(),
        regularisation=strength,
        validation_accuracy=accuracies[best],
        regularisations=settings.regularisations,
        validation_accuracies=accuracies,
        search_iterations=tuple(solution.iterations for solution in solutions),
        iterations=refit.iterations,
        loss=float(loss),
        gradient_max=float(gradient.abs().max()),
        seconds=time.perf_counter() - started,
    )
    log.info(
        "linear probe: lambda=%g (validation accuracy %.4f), refit in %d iterations, %.1f s",
        strength,
        fit.validation_accuracy,
        fit.iterations,
        fit.seconds,
    )
    return fit


class FittedProbe(Protocol):
    """A probe's arrays: a ProbeFit, or one read back (records.probe_fit.StoredProbe)."""

    @property
    def weight(self) -> np.ndarray: ...
    @property
    def bias(self) -> np.ndarray: ...
    @property
    def mean(self) -> np.ndarray: ...
    @property
    def std(self) -> np.ndarray: ...


def probe_scores(fit: FittedProbe, features: np.ndarray) -> np.ndarray:
    """The probe's class scores (logits), float32 [N, classes], computed on the CPU."""
    check_features(features, "scored")
    width = fit.weight.shape[1]
    if features.shape[1] != width:
        raise UserError(
            f"The features to score have {features.shape[1]} values per image but the probe was "
            f"fitted on {width}: they come from another model or layer. Fix: extract the "
            "training and test features with the same model and rerun the workflow."
        )
    z = to_tensor(features, None, torch.device("cpu"))
    z.sub_(torch.from_numpy(fit.mean)).div_(torch.from_numpy(fit.std))
    theta = torch.from_numpy(np.concatenate([fit.weight.reshape(-1), fit.bias]))
    with torch.no_grad():
        return _logits(z, theta).numpy()


def fit_probe_at(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    strength: float,
    max_iterations: int,
    device: str | torch.device = "cpu",
) -> ProbeFit:
    """The probe fitted on all given images at one L2 strength, without a hold-out search (for
    training sets too small to hold images out: the few-shot probes of 1 or 2 per class)."""
    started = time.perf_counter()
    check_features(train_features, "training")
    labels = check_labels(train_labels, len(train_features))
    device = torch.device(device)
    z = to_tensor(train_features, None, device)
    mean, std = _standardiser(z)
    z.sub_(mean).div_(std)
    targets = one_hot(labels, device)
    start = torch.zeros(NUM_CIFAR10_CLASSES * (z.shape[1] + 1), device=device)
    solution = _fit(z, targets, start, strength, max_iterations)
    with torch.no_grad():
        loss, gradient = _objective(z, targets, solution.theta, strength)
    weight, bias = _split_theta(solution.theta, z.shape[1])
    return ProbeFit(
        weight=weight.cpu().numpy().copy(),
        bias=bias.cpu().numpy().copy(),
        mean=mean.cpu().numpy(),
        std=std.cpu().numpy(),
        regularisation=strength,
        validation_accuracy=float("nan"),  # nothing held out
        regularisations=(strength,),
        validation_accuracies=(),
        search_iterations=(),
        iterations=solution.iterations,
        loss=float(loss),
        gradient_max=float(gradient.abs().max()),
        seconds=time.perf_counter() - started,
    )
