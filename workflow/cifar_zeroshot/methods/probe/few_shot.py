"""Few-shot linear probes: the probe fitted on k training images per class, several draws per k.

For each k of the configuration and each draw d, k training images of every class are drawn
without replacement with numpy's generator seeded by (seed, k, d), from the training features
ordered by image index, so the same seed gives the same images whatever order the feature file
holds them in; the drawn image indices are recorded. The L2 strength is chosen as the full probe
chooses it (methods/probe/fit.py: a stratified hold-out of linear_probe_validation_fraction of
each class, the probe's grid and split seed) when k leaves at least one image per class on each
side of that split; for smaller k (1 and 2 at the default fraction 0.2) nothing can be held out,
and the strength is fixed at the one the full probe chose on the whole training set.

Nothing here runs a model: the fits read the features the probe job already read.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.methods.probe.data import can_hold_out
from cifar_zeroshot.methods.probe.few_shot_settings import FewShotSettings
from cifar_zeroshot.methods.probe.fit import fit_probe, fit_probe_at, probe_scores
from cifar_zeroshot.methods.probe.settings import ProbeSettings

HOLD_OUT = "hold-out"  # the strength chosen on held-out images, as the full probe does
FIXED = "full probe"  # too few images to hold any out: the full probe's strength


def draw_rows(labels: np.ndarray, k: int, seed: int, draw: int) -> np.ndarray:
    """Sorted rows: k of each class, drawn without replacement with generator (seed, k, draw)."""
    rng = np.random.default_rng((seed, k, draw))
    rows = []
    for label in range(NUM_CIFAR10_CLASSES):
        members = np.flatnonzero(labels == label)
        if len(members) < k:
            raise UserError(
                f"The training set has {len(members)} images of class {label}, fewer than "
                f"few_shot_k={k}. Fix: drop {k} from few_shot_k."
            )
        rows.append(rng.choice(members, size=k, replace=False))
    return np.sort(np.concatenate(rows))


@dataclass(frozen=True)
class FewShotFeatures:
    """What the few-shot probes read: training features ordered by image index, test features."""

    train_values: np.ndarray
    train_labels: np.ndarray
    train_image_index: np.ndarray
    test_values: np.ndarray
    test_labels: np.ndarray

    @classmethod
    def ordered(
        cls, train: tuple[np.ndarray, np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]
    ) -> "FewShotFeatures":
        """From (image_index, labels, values) of the training features and (labels, values)."""
        image_index, labels, values = train
        order = np.argsort(image_index, kind="stable")
        return cls(values[order], labels[order], image_index[order], test[1], test[0])


def few_shot_rows(
    features: FewShotFeatures,
    settings: FewShotSettings,
    probe: ProbeSettings,
    full_strength: float,
) -> list[dict[str, Any]]:
    """One row per k and draw: how the probe was fitted and its top-1 on the test images."""
    rows = []
    for k in settings.shots:
        for draw in range(settings.draws):
            chosen = draw_rows(features.train_labels, k, settings.seed, draw)
            x, y = features.train_values[chosen], features.train_labels[chosen]
            if can_hold_out(k, probe.validation_fraction):
                fit, how = fit_probe(x, y, probe), HOLD_OUT
            else:
                fit, how = fit_probe_at(x, y, full_strength, probe.max_iterations), FIXED
            predicted = np.argmax(probe_scores(fit, features.test_values), axis=1)
            rows.append(
                {
                    "k": k,
                    "draw": draw,
                    "seed": settings.seed,
                    "train_images": len(chosen),
                    "regularisation": fit.regularisation,
                    "regularisation_from": how,
                    "validation_top1": fit.validation_accuracy,
                    "test_images": len(features.test_labels),
                    "test_top1": float(np.mean(predicted == features.test_labels)),
                    "fit_seconds": fit.seconds,
                    "train_image_indices": " ".join(
                        map(str, features.train_image_index[chosen].tolist())
                    ),
                }
            )
    return rows
