"""The linear probe's settings: the hold-out split, the grid of L2 strengths and the iteration cap.

The probe minimises, over the n standardised rows it is fitted on,

    mean cross-entropy + (λ / 2) · ||W||²        (the bias is not penalised)

for each λ in ``regularisations``. That is scikit-learn's LogisticRegression objective
(``C · Σ cross-entropy + ½ ||W||²``) divided by C · n, so λ = 1 / (C · n) and C = 1 / (λ · n).
Because the loss is a mean, one λ means about the same strength whatever the number of images.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from cifar_zeroshot.core.errors import UserError


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fraction(value: Any) -> float:
    if not _is_number(value) or not 0 < value < 1:
        raise UserError(
            f"linear_probe_validation_fraction must be a number strictly between 0 and 1, got "
            f"{value!r}. Fix: set it to e.g. 0.2 (a fifth of each class's training images held "
            "out to choose the regularisation) in the config."
        )
    return float(value)


def _check_regularisations(values: Any) -> tuple[float, ...]:
    fix = "Fix: set it to a list of positive numbers such as [0.01, 0.001, 0.0001] in the config."
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise UserError(
            f"linear_probe_regularisations must be a non-empty list of L2 strengths, got "
            f"{values!r}. {fix}"
        )
    for value in values:
        if not _is_number(value) or not math.isfinite(value) or value <= 0:
            raise UserError(
                f"linear_probe_regularisations holds {value!r}, which is not a positive finite "
                f"number. {fix}"
            )
    if len(set(values)) != len(values):
        raise UserError(
            f"linear_probe_regularisations lists a value twice ({list(values)}). Fix: list each "
            "L2 strength once in the config."
        )
    # Strongest first: the order the probe fits them in, each starting from the previous fit.
    return tuple(sorted((float(value) for value in values), reverse=True))


def _check_whole(key: str, value: Any, least: int, example: int) -> int:
    if not _is_whole(value) or value < least:
        raise UserError(
            f"{key} must be a whole number of at least {least}, got {value!r}. Fix: set it to "
            f"e.g. {example} in the config."
        )
    return value


@dataclass(frozen=True)
class ProbeSettings:
    """How the probe is fitted; checked on construction (UserError names the config key).

    ``regularisations`` is stored strongest first, whatever order it was given in.
    """

    validation_fraction: float  # of each class's training images, held out to choose λ
    regularisations: tuple[float, ...]  # the grid of λ (see the module docstring)
    max_iterations: int  # L-BFGS iterations per fit (each λ, and the final refit)
    seed: int  # of the stratified train/validation split

    def __post_init__(self) -> None:
        # frozen: the normalised values are set through object.__setattr__.
        normalised = {
            "validation_fraction": _check_fraction(self.validation_fraction),
            "regularisations": _check_regularisations(self.regularisations),
            "max_iterations": _check_whole(
                "linear_probe_max_iterations", self.max_iterations, 1, 100
            ),
            "seed": _check_whole("linear_probe_seed", self.seed, 0, 0),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "ProbeSettings":
        """The settings of the configuration's linear_probe_* keys (checked as above)."""
        return cls(
            validation_fraction=config["linear_probe_validation_fraction"],
            regularisations=tuple(config["linear_probe_regularisations"]),
            max_iterations=config["linear_probe_max_iterations"],
            seed=config["linear_probe_seed"],
        )

    def to_params(self) -> dict[str, Any]:
        """Plain values (a Snakemake param); from_params gives these settings back."""
        return {**asdict(self), "regularisations": list(self.regularisations)}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "ProbeSettings":
        return cls(**{**params, "regularisations": tuple(params["regularisations"])})


@dataclass(frozen=True)
class ProbeRequest:
    """What the configuration asks of every probe file: these settings, this training set size.

    Its params are named as the probe file's record names them (records.probe_scores), so a
    file's record compares with them key by key.
    """

    settings: ProbeSettings
    train_images: int  # every image of the configured training set

    def to_params(self) -> dict[str, Any]:
        return {**self.settings.to_params(), "train_images": self.train_images}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "ProbeRequest":
        settings = {key: value for key, value in params.items() if key != "train_images"}
        return cls(ProbeSettings.from_params(settings), params["train_images"])
