"""What a scoring method is: a way to turn one run's stored outputs into CIFAR-10 class scores.

Metrics are computed per model, variant and method. Every method gives scores [N, 10] (higher is
better), from which top-1/top-5 accuracy, intervals, per-class accuracy, confusions and agreement
are computed the same way for all methods. A method may add its own settings (such as the
pooling) and figures (such as unrestricted top-1); those columns stay empty for other methods.

A method may score only some runs (``applies_to``); runs it skips have no rows for it.

To add a method: write a class that satisfies ``ScoringMethod``, list it in
``cifar_zeroshot.methods.registry.METHODS`` (which fixes its columns in metrics.csv) and build it
from its configuration in workflow/scripts/metrics.py. Tables, plots and the summary need no
change.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from cifar_zeroshot.records.run_facts import RunFacts


@dataclass(frozen=True)
class RunOutputs:
    """What inference stored for one run, rows sorted by image_index (so runs align)."""

    facts: RunFacts
    image_index: np.ndarray
    labels: np.ndarray  # int64, CIFAR-10 label order
    logits: np.ndarray | None  # float32 [N, 1000] ImageNet logits; None for a CLIP run
    embeddings: np.ndarray | None = None  # float32 [N, D] a CLIP run's image embeddings


@dataclass(frozen=True)
class MethodScores:
    """One method's result on one run."""

    scores: np.ndarray  # [N, 10]; ranked with ties to the lower class
    settings: Mapping[str, str]  # one value per ScoringMethod.setting_columns
    figures: Mapping[str, float]  # one value per ScoringMethod.figure_columns


class ScoringMethod(Protocol):
    """A configured scoring method (its configuration is in the instance's fields)."""

    name: ClassVar[str]  # the `method` column, e.g. "class_mapping"
    # Columns of metrics.csv that only this method fills: settings go before the accuracy
    # columns, figures after them.
    setting_columns: ClassVar[tuple[str, ...]]
    figure_columns: ClassVar[tuple[str, ...]]

    def applies_to(self, run: RunOutputs) -> bool:
        """Whether this method scores ``run`` (a probe needs the run's features, for one)."""
        ...

    def score(self, run: RunOutputs) -> MethodScores: ...

    @classmethod
    def describe(cls, settings: Mapping[str, str]) -> str:
        """How the scores were made, for a plot title: e.g. "ImageNet logits pooled by X"."""
        ...

    @classmethod
    def describe_markdown(cls, settings: Mapping[str, str]) -> str:
        """The same for the header of results/summary.md (Markdown)."""
        ...
