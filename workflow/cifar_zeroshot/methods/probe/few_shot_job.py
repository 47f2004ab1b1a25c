"""One few-shot job: the few-shot probes of one run, from its stored features and its probe.

The features are checked as the probe job checks them (methods/probe/job.py), and the probe file
must be the one fitted on them: its L2 strength is the few-shot probes' where k is too small to
hold images out. results/few_shot/{model}/{variant}.csv has one row per k and draw.
"""

import logging
from pathlib import Path

import pandas as pd

from cifar_zeroshot.core.csv_output import write_recorded_csv
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.probe.few_shot import FewShotFeatures, few_shot_rows
from cifar_zeroshot.methods.probe.few_shot_settings import FewShotSettings
from cifar_zeroshot.methods.probe.job import ProbeInputs, read_probe_features
from cifar_zeroshot.methods.probe.settings import ProbeSettings
from cifar_zeroshot.records.probe_scores import read_probe_scores

log = logging.getLogger(__name__)

FEW_SHOT_COLUMNS = (
    "model",
    "variant",
    "k",
    "draw",
    "seed",
    "train_images",
    "regularisation",
    "regularisation_from",
    "validation_top1",
    "test_images",
    "test_top1",
    "fit_seconds",
    "train_image_indices",
)


def run_few_shot(
    inputs: ProbeInputs,
    probe_path: Path,
    settings: FewShotSettings,
    probe: ProbeSettings,
    out_path: str | Path,
) -> pd.DataFrame:
    train, test, _ = read_probe_features(inputs)
    fitted = read_probe_scores(probe_path)
    if fitted.facts != test.facts:
        raise UserError(
            f"{probe_path} was fitted on features of another run than {inputs.test_features}. "
            f"Fix: delete it and rerun snakemake."
        )
    features = FewShotFeatures.ordered(
        (train.image_index, train.labels, train.values), (test.labels, test.values)
    )
    rows = few_shot_rows(features, settings, probe, fitted.record.regularisation)
    frame = pd.DataFrame(
        [{"model": test.facts.model, "variant": test.facts.variant} | row for row in rows],
        columns=list(FEW_SHOT_COLUMNS),
    )
    # With its rows' digest: the summary's "worth k images" sentence must not come from an
    # edited file.
    write_recorded_csv(frame, out_path)
    log.info(
        "%s %s: %d few-shot probes fitted in %.2f s in all",
        test.facts.model,
        test.facts.variant,
        len(frame),
        frame["fit_seconds"].sum(),
    )
    return frame
