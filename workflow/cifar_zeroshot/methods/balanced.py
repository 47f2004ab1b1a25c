"""Balanced variants of the zero-shot methods: a method's ten class probabilities, balanced to
the test set's known equal class prior without reading a label (methods/balancing.py).

A variant is its own method in metrics.csv ("<method>+balanced" cross-fitted, "<method>
+balanced_all" fitted on every image scored), so paired tests, calibration and every table treat
it as any other method. It scores each scope (a test set, a CIFAR-10-C block) on its own images,
and only sets whose prior is known to be equal (MethodInputs.equal_class_prior). Its figures are
the balanced top-1 under each of the base method's alternatives (the class mapping's poolings).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from cifar_zeroshot.methods.balancing import (
    ALL_IMAGES,
    CROSS_FITTED,
    AppliedFit,
    Balanced,
    balance,
    can_cross_fit,
    log_probabilities,
    uniform_prior,
)
from cifar_zeroshot.methods.interface import MethodInputs, MethodScores, RunOutputs, ScoringMethod
from cifar_zeroshot.methods.scoring import share, topk_correct

SUFFIXES: dict[str, str] = {CROSS_FITTED: "+balanced", ALL_IMAGES: "+balanced_all"}
_FIT_TEXT = {
    CROSS_FITTED: "cross-fitted: each half of the images with the other half's offsets",
    ALL_IMAGES: "fitted on all images scored",
}


def balanced_figure_column(alternative: str) -> str:
    return f"top1_{alternative}_balanced"


@dataclass(frozen=True)
class BalancedMethod:
    """The balanced variant of ``base`` under ``fit``; made by balanced_variant."""

    inner: ScoringMethod  # the base method as configured

    base: ClassVar[type[ScoringMethod]]
    fit: ClassVar[str]
    alternatives: ClassVar[tuple[str, ...]]
    name: ClassVar[str]
    setting_columns: ClassVar[tuple[str, ...]]
    figure_columns: ClassVar[tuple[str, ...]]

    @classmethod
    def configured(cls, inputs: MethodInputs) -> Self | None:
        if not inputs.equal_class_prior:
            return None  # the prior the offsets are fitted to is not known
        inner = cls.base.configured(inputs)
        return None if inner is None else cls(inner)

    def applies_to(self, run: RunOutputs) -> bool:
        enough = self.fit != CROSS_FITTED or can_cross_fit(len(run.labels))
        return enough and self.inner.applies_to(run)

    def score(self, run: RunOutputs) -> MethodScores:
        scored = self.inner.score(run)
        own = self._balance(scored.probabilities)
        figures: dict[str, float] = {}
        alternatives: dict[str, np.ndarray] = {}
        records: list[tuple[str, AppliedFit]] = []
        own_is_alternative = False
        for alternative in self.alternatives:
            probabilities = scored.alternatives[alternative]
            same = np.array_equal(probabilities, scored.probabilities)
            balanced = own if same else self._balance(probabilities)
            own_is_alternative |= same
            alternatives[alternative] = np.exp(balanced.log_probs)
            correct = topk_correct(balanced.log_probs, run.labels, 1)
            figures[balanced_figure_column(alternative)] = share(int(correct.sum()), len(correct))
            records += [(alternative, applied) for applied in balanced.fits]
        if not own_is_alternative:
            records = [(self.base.name, applied) for applied in own.fits] + records
        return MethodScores(
            scores=own.log_probs,
            settings=dict(scored.settings),
            figures=figures,
            probabilities=np.exp(own.log_probs),
            alternatives=alternatives,
            balancing=tuple(records),
        )

    def _balance(self, probabilities: np.ndarray) -> Balanced:
        log_probs = log_probabilities(probabilities)
        return balance(log_probs, uniform_prior(log_probs.shape[1]), self.fit)

    @classmethod
    def describe(cls, settings: Mapping[str, str]) -> str:
        return f"{cls.base.describe(settings)}, balanced to equal classes ({_FIT_TEXT[cls.fit]})"

    @classmethod
    def describe_markdown(cls, settings: Mapping[str, str]) -> str:
        return (
            f"{cls.base.describe_markdown(settings)}, **balanced** to equal classes without "
            f"labels (transductive, {_FIT_TEXT[cls.fit]})"
        )


def balanced_variant(
    base: type[ScoringMethod], fit: str, alternatives: tuple[str, ...] = ()
) -> type[BalancedMethod]:
    """The balanced variant of ``base`` under ``fit``, with a balanced top-1 figure per name in
    ``alternatives`` (names of base's MethodScores.alternatives)."""
    namespace = {
        "base": base,
        "fit": fit,
        "alternatives": alternatives,
        "name": base.name + SUFFIXES[fit],
        "setting_columns": base.setting_columns,
        "figure_columns": tuple(balanced_figure_column(a) for a in alternatives),
    }
    return type(f"Balanced{base.__name__}{SUFFIXES[fit]}", (BalancedMethod,), namespace)
