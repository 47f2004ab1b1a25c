"""The few-shot probes' settings: k per class, draws per k, the seed of the draws.

Apart from methods/probe/few_shot.py so that planning checks them without importing torch.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cifar_zeroshot.core.errors import UserError


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class FewShotSettings:
    """k per class (ascending), draws per k, and the seed of the draws; checked on creation."""

    shots: tuple[int, ...]
    draws: int
    seed: int

    def __post_init__(self) -> None:
        shots = self.shots
        if isinstance(shots, str | bytes) or not isinstance(shots, Sequence) or not shots:
            raise UserError(
                f"few_shot_k must be a non-empty list of training images per class, got "
                f"{shots!r}. Fix: set it to e.g. [1, 2, 4, 8, 16] in the config."
            )
        bad = [k for k in shots if not _whole(k) or k < 1]
        if bad or len(set(shots)) != len(shots):
            problem = f"holds {bad[0]!r}" if bad else f"lists a value twice ({list(shots)})"
            raise UserError(
                f"few_shot_k {problem}. Allowed: different whole numbers >= 1 (training images "
                "per class). Fix: set it to e.g. [1, 2, 4, 8, 16] in the config."
            )
        if not _whole(self.draws) or self.draws < 1:
            raise UserError(
                f"few_shot_draws must be a whole number >= 1, got {self.draws!r}. Fix: set it to "
                "e.g. 5 (random draws of the training images per k) in the config."
            )
        if not _whole(self.seed) or self.seed < 0:
            raise UserError(
                f"few_shot_seed must be a whole number >= 0, got {self.seed!r}. Fix: set it to "
                "e.g. 0 in the config."
            )
        object.__setattr__(self, "shots", tuple(sorted(shots)))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "FewShotSettings":
        return cls(tuple(config["few_shot_k"]), config["few_shot_draws"], config["few_shot_seed"])

    def to_params(self) -> dict[str, Any]:
        return {"shots": list(self.shots), "draws": self.draws, "seed": self.seed}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "FewShotSettings":
        return cls(tuple(params["shots"]), params["draws"], params["seed"])

    def check_training_set(self, per_class: int) -> None:
        """Refuse a k above the training images of a class (the smallest class's count)."""
        over = [k for k in self.shots if k > per_class]
        if over:
            raise UserError(
                f"config key 'few_shot_k': {over[0]} is more than the {per_class} training images "
                f"per class. Allowed: whole numbers from 1 to {per_class}. Fix: drop it from "
                "few_shot_k (or, for synthetic data, raise synthetic_train_images_per_class)."
            )
