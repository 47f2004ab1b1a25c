"""The class-mapping scoring method: CIFAR-10 scores pooled from each class's ImageNet logits.

Every CIFAR-10 class has a group of ImageNet classes (results/class_mapping.csv); its score is
pooled from their logits with the configured pooling. Besides the scores this method reports the
accuracy under every pooling and the unrestricted top-1 (the argmax over all 1000 classes falls
in the true class's group), and every pooling's probabilities as its alternatives.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from cifar_zeroshot.core.choices import POOLINGS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.methods.interface import MethodInputs, MethodScores, RunOutputs
from cifar_zeroshot.methods.probabilities import mapping_probabilities
from cifar_zeroshot.methods.scoring import (
    pool_all,
    share,
    topk_correct,
    unrestricted,
    wilson_interval,
)


@dataclass(frozen=True)
class ClassMappingMethod:
    groups: Sequence[np.ndarray]  # per CIFAR-10 class (label order): the pooled ImageNet indices
    pooling: str  # the pooling whose scores rank the classes (one of POOLINGS)

    name: ClassVar[str] = "class_mapping"
    setting_columns: ClassVar[tuple[str, ...]] = ("pooling",)
    figure_columns: ClassVar[tuple[str, ...]] = (
        *(f"top{k}_{p}" for k in (1, 5) for p in POOLINGS),
        "unrestricted_top1",
        "unrestricted_top1_ci_low",
        "unrestricted_top1_ci_high",
        "outside_mapped_share",
    )

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise UserError(
                f"Unknown pooling {self.pooling!r}: set config pooling to one of {POOLINGS}."
            )
        if len(self.groups) != len(CIFAR10_CLASSES):
            raise UserError(
                f"The class mapping has {len(self.groups)} groups but CIFAR-10 has "
                f"{len(CIFAR10_CLASSES)} classes: rebuild results/class_mapping.csv."
            )

    @classmethod
    def configured(cls, inputs: MethodInputs) -> Self:
        return cls(inputs.groups, inputs.pooling)  # every classifier's run is scored so

    def applies_to(self, run: RunOutputs) -> bool:
        return run.logits is not None  # a classifier's run (a CLIP run has embeddings)

    def score(self, run: RunOutputs) -> MethodScores:
        if run.logits is None:
            raise ValueError(f"{run.facts.model} has no ImageNet logits to pool")
        labels, n = run.labels, len(run.labels)
        pooled = pool_all(run.logits, self.groups)
        figures: dict[str, float] = {}
        for k in (1, 5):
            for pooling, scores in pooled.items():
                figures[f"top{k}_{pooling}"] = share(int(topk_correct(scores, labels, k).sum()), n)
        hit, outside = unrestricted(run.logits, labels, self.groups)
        figures["unrestricted_top1"] = share(int(hit.sum()), n)
        low, high = wilson_interval(int(hit.sum()), n)
        figures["unrestricted_top1_ci_low"], figures["unrestricted_top1_ci_high"] = low, high
        figures["outside_mapped_share"] = share(int(outside.sum()), n)
        # Every pooling's probabilities, for the balanced variants' figure per pooling.
        alternatives = {p: mapping_probabilities(pooled[p], p) for p in POOLINGS}
        scores = pooled[self.pooling]
        return MethodScores(
            scores, {"pooling": self.pooling}, figures, alternatives[self.pooling], alternatives
        )

    @classmethod
    def describe(cls, settings: Mapping[str, str]) -> str:
        return f"ImageNet logits pooled by {settings['pooling']}"

    @classmethod
    def describe_markdown(cls, settings: Mapping[str, str]) -> str:
        return f"CIFAR-10 scores pooled from ImageNet logits with **{settings['pooling']}**"
