"""What the linear probe is fitted on: checked features and labels, and the stratified split.

Features are a float array [N, F] (stored as float16 or float32), labels the CIFAR-10 class
indices [N]. Every class needs training images, and enough of them to hold some out.
"""

import numpy as np
import torch

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES, NUM_CIFAR10_CLASSES

_FEATURES_FIX = (
    "Fix: delete the feature files and rerun the workflow to extract them again from the model's "
    "penultimate layer."
)


def check_features(features: np.ndarray, what: str) -> None:
    """Refuse features that are not a finite float matrix [N, F] with N, F >= 1."""
    if not isinstance(features, np.ndarray) or features.dtype.kind != "f":
        kind = features.dtype if isinstance(features, np.ndarray) else type(features).__name__
        raise UserError(f"The {what} features are {kind}, not a float array. {_FEATURES_FIX}")
    if features.ndim != 2 or 0 in features.shape:
        raise UserError(
            f"The {what} features have shape {features.shape}; a matrix [images, features] with "
            f"at least one of each is needed. {_FEATURES_FIX}"
        )
    # Row by row block, so no image-sized boolean copy of the whole matrix is made.
    for start in range(0, len(features), 4096):
        block = features[start : start + 4096]
        if not np.isfinite(block).all():
            row = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise UserError(
                f"The {what} features hold NaN or infinite values (first in image {row}): the "
                f"model's forward pass overflowed or the file is damaged. {_FEATURES_FIX}"
            )


def check_labels(labels: np.ndarray, rows: int) -> np.ndarray:
    """The training labels as int64 [rows]; every class in 0..9 must have at least one image."""
    if (
        not isinstance(labels, np.ndarray)
        or labels.dtype.kind not in "iu"
        or labels.shape != (rows,)
    ):
        shape = labels.shape if isinstance(labels, np.ndarray) else type(labels).__name__
        raise UserError(
            f"The training labels ({shape}) are not one integer label per feature row ({rows} "
            "rows). Fix: rebuild train_set.npz and the training features with the workflow."
        )
    if labels.min() < 0 or labels.max() >= NUM_CIFAR10_CLASSES:
        raise UserError(
            f"The training labels run from {labels.min()} to {labels.max()}, outside "
            f"0..{NUM_CIFAR10_CLASSES - 1}. Fix: rebuild train_set.npz with the workflow."
        )
    counts = np.bincount(labels, minlength=NUM_CIFAR10_CLASSES)
    missing = [CIFAR10_CLASSES[c] for c in np.flatnonzero(counts == 0)]
    if missing:
        present = NUM_CIFAR10_CLASSES - len(missing)
        raise UserError(
            f"The training set has images of {present} of the {NUM_CIFAR10_CLASSES} classes "
            f"(none of "
            f"{', '.join(missing)}); the probe needs images of every class. Fix: build the "
            "training set from an archive whose training batches hold every class."
        )
    return labels.astype(np.int64)


def _held_out(count: int, fraction: float) -> int:
    # Half up, so a fraction of exactly half an image rounds the same way everywhere.
    return int(np.floor(count * fraction + 0.5))


def can_hold_out(count: int, fraction: float) -> bool:
    """Whether ``count`` images of a class split into at least one to fit and one to validate."""
    return 1 <= _held_out(count, fraction) < count


def stratified_split(
    labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, validation rows), each sorted: ``fraction`` of every class held out at random.

    Every class keeps at least one image on each side, or the split is refused.
    """
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for label in range(NUM_CIFAR10_CLASSES):
        rows = np.flatnonzero(labels == label)
        count = _held_out(len(rows), fraction)
        if not 1 <= count < len(rows):
            raise UserError(
                f"Class {CIFAR10_CLASSES[label]!r} has {len(rows)} training images, which "
                f"linear_probe_validation_fraction={fraction} splits into {len(rows) - count} "
                f"to fit and {count} to validate; each needs at least one. Fix: use more "
                "training images per class (for synthetic data, raise "
                "synthetic_train_images_per_class) or change linear_probe_validation_fraction."
            )
        held.append(rng.permutation(rows)[:count])
    validation = np.zeros(len(labels), dtype=bool)
    validation[np.concatenate(held)] = True
    return np.flatnonzero(~validation), np.flatnonzero(validation)


def to_tensor(features: np.ndarray, rows: np.ndarray | None, device: torch.device) -> torch.Tensor:
    """A float32 copy of the features (the given rows, or all) on the device; never a view."""
    selected = features if rows is None else features[rows]
    return torch.tensor(selected, dtype=torch.float32, device=device)


def one_hot(labels: np.ndarray, device: torch.device) -> torch.Tensor:
    """float32 [N, classes] one-hot targets (by comparison: no scatter, so deterministic)."""
    targets = torch.as_tensor(labels, device=device)
    classes = torch.arange(NUM_CIFAR10_CLASSES, device=device)
    return (targets[:, None] == classes[None, :]).to(torch.float32)
