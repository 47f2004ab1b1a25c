"""The fitted linear probe, kept so that it scores other test sets without being refitted.

results/probe/{model}/{variant}.fit.npz holds the probe as the probe job fitted it on CIFAR-10's
training features: ``weight`` [10, F] on standardised features, ``bias`` [10], and the training
features' ``mean`` and ``std`` [F] (all float32, so applying it again gives the stored scores
bit for bit), with the facts of the CIFAR-10 run whose test features it scored and its
ProbeRecord, as JSON. An .npz rather than Parquet: four arrays of different shapes, no rows.
"""

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.records.probe_scores import ProbeRecord
from cifar_zeroshot.records.run_facts import RunFacts

FIT_ARRAYS = ("weight", "bias", "mean", "std")
_JSON_ARRAYS = ("facts", "record")


@dataclass(frozen=True)
class StoredProbe:
    """A fitted probe: scores = ((features - mean) / std) @ weight.T + bias."""

    weight: np.ndarray  # float32 [classes, F]
    bias: np.ndarray  # float32 [classes]
    mean: np.ndarray  # float32 [F]
    std: np.ndarray  # float32 [F]
    facts: RunFacts  # of the CIFAR-10 test run whose features the probe job scored
    record: ProbeRecord


def write_probe_fit(path: str | Path, probe: StoredProbe) -> None:
    arrays = {name: np.asarray(getattr(probe, name), dtype=np.float32) for name in FIT_ARRAYS}
    with atomic_path(Path(path)) as temp, open(temp, "wb") as handle:
        # A file object: np.savez would add ".npz" to the temp file's name.
        np.savez(
            handle,
            **arrays,
            facts=np.array(probe.facts.to_json()),
            record=np.array(probe.record.to_json()),
        )


def _refuse(path: Path, problem: str) -> UserError:
    return UserError(
        f"{path} {problem}, so it is not a fitted probe this workflow wrote. Fix: delete it and "
        "rerun snakemake (the probe is fitted again on CIFAR-10's training features only)."
    )


def _problem(probe: StoredProbe) -> str | None:
    """What is wrong with the arrays' shapes or values, or None."""
    width = probe.record.feature_width
    expected = {
        "weight": (NUM_CIFAR10_CLASSES, width),
        "bias": (NUM_CIFAR10_CLASSES,),
        "mean": (width,),
        "std": (width,),
    }
    for name, shape in expected.items():
        array = getattr(probe, name)
        if array.dtype != np.float32 or array.shape != shape:
            return f"has {name} {array.dtype} {array.shape}, expected float32 {shape}"
        if not np.isfinite(array).all():
            return f"has NaN or infinite values in {name}"
    if not (probe.std > 0).all():
        return "has a standard deviation that is not positive"
    return None


def read_probe_fit(path: str | Path) -> StoredProbe:
    """Read a fitted probe and refuse a file this workflow did not write whole."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist. Run snakemake to create it.")
    try:
        with np.load(path, allow_pickle=False) as stored:
            missing = [name for name in (*FIT_ARRAYS, *_JSON_ARRAYS) if name not in stored.files]
            if missing:
                raise _refuse(path, f"lacks the arrays {', '.join(missing)}")
            arrays = {name: stored[name] for name in FIT_ARRAYS}
            facts_json, record_json = (str(stored[name][()]) for name in _JSON_ARRAYS)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise _refuse(path, f"is not a readable .npz ({error})") from None
    try:
        facts = RunFacts.from_mapping(json.loads(facts_json), path)
        record = ProbeRecord.from_mapping(json.loads(record_json), path)
    except (json.JSONDecodeError, TypeError, AttributeError) as error:
        raise _refuse(path, f"has unreadable facts or record ({error})") from None
    probe = StoredProbe(**arrays, facts=facts, record=record)
    problem = _problem(probe)
    if problem:
        raise _refuse(path, problem)
    return probe
