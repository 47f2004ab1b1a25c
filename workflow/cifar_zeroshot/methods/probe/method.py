"""The linear-probe scoring method: CIFAR-10 scores from a probe fitted on the run's features.

The probe job (methods/probe/job.py) has already scored the test images (and, with shifted test
sets, the rule shifted_probe each set's images, with the same probe); this method checks
that its file was fitted as the configuration asks (the settings and the training set size)
and belongs to the run being scored (the same run facts, the same images and labels), and
reports its scores with the probe's chosen L2 strength and validation accuracy.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from cifar_zeroshot.core.choices import REFERENCE_TEST_SET
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.paths import probe_fit_path
from cifar_zeroshot.methods.interface import MethodInputs, MethodScores, RunOutputs, read_stored
from cifar_zeroshot.methods.probabilities import probe_probabilities
from cifar_zeroshot.methods.probe.settings import ProbeRequest
from cifar_zeroshot.methods.scoring import MIB, table_figure
from cifar_zeroshot.records.probe_scores import ProbeTable, read_probe_scores
from cifar_zeroshot.records.run_facts import fact_differences


@dataclass(frozen=True)
class LinearProbeMethod:
    # (model, variant) -> the probe's file and its contents; runs without one are not probed.
    probes: Mapping[tuple[str, str], tuple[Path, ProbeTable]]

    name: ClassVar[str] = "linear_probe"
    setting_columns: ClassVar[tuple[str, ...]] = ("probe_regularisation",)
    figure_columns: ClassVar[tuple[str, ...]] = (
        "probe_validation_top1",
        "probe_train_images",
        "probe_fit_seconds",
        "probe_train_images_per_second",
        # The training-set features job's peak memory, as the memory columns state a run's.
        "probe_train_host_peak_rss_mb",
        "probe_train_torch_peak_allocated_mb",
    )

    @classmethod
    def configured(cls, inputs: MethodInputs) -> Self | None:
        if not inputs.probe_files:
            return None  # the probe is off, or no model can be probed
        request = ProbeRequest.from_params(inputs.probe_request).to_params()

        def differences(run: tuple[str, str], probe: ProbeTable) -> list[str]:
            held: dict[str, Any] = {"model": probe.facts.model, "variant": probe.facts.variant}
            expected = {"model": run[0], "variant": run[1], **request}
            return fact_differences(held | asdict(probe.record), expected)

        def made_from(run: tuple[str, str], path: Path) -> Path | None:
            # Every set but CIFAR-10 is scored by the kept fit, which is then what is stale.
            if inputs.test_set == REFERENCE_TEST_SET:
                return None
            return Path(probe_fit_path(*run))

        return cls(
            read_stored(
                inputs.probe_files, read_probe_scores, differences, "linear probe", made_from
            )
        )

    def applies_to(self, run: RunOutputs) -> bool:
        return (run.facts.model, run.facts.variant) in self.probes

    def score(self, run: RunOutputs) -> MethodScores:
        path, probe = self.probes[(run.facts.model, run.facts.variant)]
        if probe.facts != run.facts:
            raise UserError(
                f"{path} was fitted on features of another run than the logits of "
                f"{run.facts.model} {run.facts.variant} (the run facts differ). Fix: delete it "
                "and rerun snakemake."
            )
        # The probe's rows of the run's images: all of them, or one CIFAR-10-C block's (the
        # equal facts already say the probe file scored exactly the run's images).
        order = np.argsort(probe.rows.image_index, kind="stable")
        where = np.searchsorted(probe.rows.image_index[order], run.image_index)
        order = order[np.minimum(where, len(order) - 1)]
        image_index, labels = probe.rows.image_index[order], probe.rows.labels[order]
        if not (
            np.array_equal(image_index, run.image_index) and np.array_equal(labels, run.labels)
        ):
            raise UserError(
                f"{path} scores other images or labels than the run's logits. Fix: delete it "
                "and rerun snakemake."
            )
        record = probe.record
        figures = {
            "probe_validation_top1": record.validation_accuracy,
            "probe_train_images": float(record.train_images),
            "probe_fit_seconds": record.fit_seconds,
            "probe_train_images_per_second": table_figure(record.train_images_per_second),
            "probe_train_host_peak_rss_mb": table_figure(record.train_host_peak_rss_bytes, MIB),
            "probe_train_torch_peak_allocated_mb": table_figure(
                record.train_torch_peak_allocated_bytes, MIB
            ),
        }
        settings = {"probe_regularisation": f"{record.regularisation:g}"}
        scores = probe.rows.values[order]
        return MethodScores(scores, settings, figures, probe_probabilities(scores))

    @classmethod
    def describe(cls, settings: Mapping[str, str]) -> str:
        return f"linear probe on penultimate features (L2 {settings['probe_regularisation']})"

    @classmethod
    def describe_markdown(cls, settings: Mapping[str, str]) -> str:
        return (
            "a **linear probe** (L2-regularised logistic regression on the penultimate "
            f"features, λ = {settings['probe_regularisation']})"
        )
