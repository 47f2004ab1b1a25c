"""What a scoring method is: a way to turn one run's stored outputs into CIFAR-10 class scores.

Metrics are computed per model, variant and method. Every method gives scores [N, 10] (higher is
better), from which top-1/top-5 accuracy, intervals, per-class accuracy, confusions and agreement
are computed the same way for all methods. A method may add its own settings (such as the
pooling) and figures (such as unrestricted top-1); those columns stay empty for other methods.

A method may score only some runs (``applies_to``); runs it skips have no rows for it.

A method that reads files of its own (a probe's scores, a CLIP model's class embeddings) gets
each under the run or model the configuration expects in it, and refuses a file that holds
anything else (``read_stored``), as the run files themselves are checked before scoring.

To add a method: write a class that satisfies ``ScoringMethod``, list it in
``cifar_zeroshot.methods.registry.METHODS`` (which fixes its columns in metrics.csv) and, if it
needs more than ``MethodInputs`` holds, add a field there and fill it in
cifar_zeroshot.analysis.metrics_job. Tables, plots and the summary need no change.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, TypeVar

import numpy as np

from cifar_zeroshot.core.choices import REFERENCE_TEST_SET
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.balancing import AppliedFit
from cifar_zeroshot.records.run_facts import RunFacts

K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True)
class RunOutputs:
    """What inference stored for one run, rows sorted by image_index (so runs align)."""

    facts: RunFacts
    image_index: np.ndarray
    labels: np.ndarray  # int64, CIFAR-10 label order
    # float32 [N, 1000] ImageNet logits; None for a CLIP run and a run the linear probe alone
    # scores (a timm head that is not ImageNet-1k's: the metrics read its test features)
    logits: np.ndarray | None
    embeddings: np.ndarray | None = None  # float32 [N, D] a CLIP run's image embeddings


@dataclass(frozen=True)
class MethodScores:
    """One method's result on one run."""

    scores: np.ndarray  # [N, 10]; ranked with ties to the lower class
    settings: Mapping[str, str]  # one value per ScoringMethod.setting_columns
    figures: Mapping[str, float]  # one value per ScoringMethod.figure_columns
    # [N, 10] the class probabilities the method implies (methods/probabilities.py), whose
    # calibration metrics.csv reports; their top-1 class is the scores'.
    probabilities: np.ndarray
    # [N, 10] probabilities under each alternative the method compares (the class mapping's
    # poolings), by name; empty for a method without alternatives.
    alternatives: Mapping[str, np.ndarray] = field(default_factory=dict)
    # The fits of a balanced variant (methods/balanced.py), per scores balanced: what
    # results/balancing.csv keeps; empty for every other method.
    balancing: Sequence[tuple[str, AppliedFit]] = ()


@dataclass(frozen=True)
class MethodInputs:
    """What the metrics job hands the scoring methods: the configuration's choices for them,
    and their stored files, each under the run or model the configuration expects in it."""

    groups: Sequence[np.ndarray]  # per CIFAR-10 class (label order): its ImageNet indices
    pooling: str
    # (model, variant) -> results/probe/{model}/{variant}.parquet; empty with the probe off.
    probe_files: Mapping[tuple[str, str], Path] = field(default_factory=dict)
    probe_request: Mapping[str, Any] = field(default_factory=dict)  # ProbeRequest.to_params()
    # The test set the files score: on any but CIFAR-10 the probe's come from its kept fit.
    test_set: str = REFERENCE_TEST_SET
    # CLIP model (slug) -> results/clip_text/{model}.parquet; empty without CLIP models.
    clip_text_files: Mapping[str, Path] = field(default_factory=dict)
    clip_prompts: str = ""  # the configured prompts file
    clip_prompts_sha256: str = ""  # the digest of its prompts (clip.prompts.prompts_digest)
    # Whether the test set's class prior is known to be equal (data.test_sets.TestSet): the
    # balanced variants assume it, and score no set where it is not.
    equal_class_prior: bool = True


def read_stored(
    files: Mapping[K, Path],
    read: Callable[[Path], T],
    differences: Callable[[K, T], list[str]],
    what: str,
    made_from: Callable[[K, Path], Path | None] = lambda key, path: None,
) -> dict[K, tuple[Path, T]]:
    """Every file read, and refused unless it holds what the configuration expects under its
    key: ``differences`` names each way it does not ("seed is 1, expected 0"); ``what`` is what
    such a file holds, e.g. "linear probe". ``made_from``: the kept file a stored file was
    computed from, if any (a shifted set's probe scores: the kept fit), which the refusal then
    names, since rerunning the file alone would repeat it."""
    stored = {}
    for key, path in files.items():
        content = read(path)
        wrong = differences(key, content)
        source = made_from(key, path)
        if wrong and source is not None:
            raise UserError(
                f"{path} is not the {what} the configuration asks for: {'; '.join(wrong)}. It "
                f"was computed from {source}, which is left from another run or settings "
                "(restored or copied), so rerunning it alone repeats this. Fix: refit with "
                f"`snakemake --forcerun {source}` (with your usual --configfile/--config), or "
                f"delete {source} and rerun snakemake."
            )
        if wrong:
            raise UserError(
                f"{path} is not the {what} the configuration asks for: {'; '.join(wrong)}. It "
                "comes from another run (a file copied, restored or edited), so metrics from it "
                "would not describe this configuration. Fix: rerun that job with "
                f"`snakemake --forcerun {path}` (with your usual --configfile/--config), or "
                f"delete {path} and rerun snakemake."
            )
        stored[key] = (path, content)
    return stored


class ScoringMethod(Protocol):
    """A configured scoring method (its configuration is in the instance's fields)."""

    name: ClassVar[str]  # the `method` column, e.g. "class_mapping"
    # Columns of metrics.csv that only this method fills: settings go before the accuracy
    # columns, figures after them.
    setting_columns: ClassVar[tuple[str, ...]]
    figure_columns: ClassVar[tuple[str, ...]]

    @classmethod
    def configured(cls, inputs: MethodInputs) -> Self | None:
        """The method as the configuration asks for it, its files read and checked; None when
        the configuration does not use it (no probe files, for one)."""
        ...

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
