"""Is a stored run exactly the run the configuration asks for? Checked before it is scored.

Snakemake decides what to rerun from file times and its own records, not from what a file
holds: a run copied over another model's files, put back from a run with another limit, or
edited by hand would be scored under the wrong name. So the metrics rule compares each logits
and timing file's facts with what the configuration asks of that job (model, resolved weights
and the digest of a user's weights file, variant, dataset, limit), and with the test set as it
is now (image count and the digest of the images and labels after the limit); and each row's
label with the test set's label of that image. Any difference stops the metrics, naming the
file, the fact and the command that replaces the file.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.test_set_checks import ConfiguredTestSet
from cifar_zeroshot.methods.interface import RunOutputs
from cifar_zeroshot.models.family_registry import family_of_slug
from cifar_zeroshot.models.weights_file import setting_sha256
from cifar_zeroshot.records.run_facts import RunFacts, fact_differences


@dataclass(frozen=True)
class RequestedRun:
    """What the configuration asks of one inference job (the metrics rule's params)."""

    model: str
    weights: str  # resolved, as the facts store it: "none" or "ResNet50_Weights.IMAGENET1K_V2"
    variant: str
    dataset: str
    limit: int | None
    # The user's weights file's SHA-256 (models.weights_file); None for published weights.
    weights_sha256: str | None = None

    def to_params(self) -> dict[str, Any]:
        return asdict(self)


def requested_run(
    model: str, weights: str, variant: str, dataset: str, limit: int | None
) -> RequestedRun:
    """The job for a model as configured (``weights`` as written: DEFAULT, a member, none)."""
    label = family_of_slug(model).weights_label(model, weights)
    return RequestedRun(model, label, variant, dataset, limit, setting_sha256(weights))


def _fix(logits_path: Path, timing_path: Path) -> str:
    return (
        f"Fix: rerun that job with `snakemake --forcerun {logits_path}` (with your usual "
        f"--configfile/--config), or delete {logits_path} and {timing_path} and rerun snakemake."
    )


@dataclass(frozen=True)
class RunCheck:
    """One job's checks: its requested facts and the test set those facts must describe."""

    requested: RequestedRun
    test_set: ConfiguredTestSet
    logits_path: Path
    timing_path: Path

    @property
    def expected_facts(self) -> dict[str, Any]:
        return {
            **self.requested.to_params(),
            "image_count": self.test_set.image_count,
            "test_set_sha256": self.test_set.sha256,
        }

    def check_facts(self, path: Path, facts: RunFacts) -> None:
        """The file's facts (logits or timing) are this job's, every differing one named."""
        wrong = fact_differences(asdict(facts), self.expected_facts)
        if wrong:
            test_set = self.test_set
            of_test_set = (
                f" (the images of {test_set.path} after the limit)"
                if facts.test_set_sha256 != test_set.sha256
                else ""
            )
            raise UserError(
                f"{path} is not the run the configuration asks for: {'; '.join(wrong)}"
                f"{of_test_set}. It comes from another run (a file copied, restored or edited), "
                "so metrics from it would not describe this configuration. "
                f"{_fix(self.logits_path, self.timing_path)}"
            )

    def check_rows(self, path: Path, outputs: RunOutputs) -> None:
        """Rows are images 0..N-1 (sorted), each with the test set's label for that image."""
        expected = self.test_set.labels
        if not np.array_equal(outputs.image_index, np.arange(len(expected))):
            raise UserError(
                f"{path} does not hold images 0..{len(expected) - 1} of {self.test_set.path} "
                f"once each: the file was edited. {_fix(self.logits_path, self.timing_path)}"
            )
        differ = np.flatnonzero(outputs.labels != expected)
        if len(differ):
            first = int(differ[0])
            raise UserError(
                f"{path} has label {int(outputs.labels[first])} for image_index {first}, but "
                f"{self.test_set.path} says {int(expected[first])} ({len(differ)} of "
                f"{len(expected)} labels differ): the file was edited. "
                f"{_fix(self.logits_path, self.timing_path)}"
            )


def run_checks(
    runs: list[tuple[str | Path, str | Path]],
    requested: list[Mapping[str, Any]],
    test_set: ConfiguredTestSet,
) -> list[RunCheck]:
    """One check per (logits, timing) pair, from the requested runs in the same order."""
    if len(runs) != len(requested):
        raise ValueError(f"{len(runs)} runs but {len(requested)} requested runs")
    return [
        RunCheck(RequestedRun(**dict(wanted)), test_set, Path(logits), Path(timing))
        for (logits, timing), wanted in zip(runs, requested, strict=True)
    ]
