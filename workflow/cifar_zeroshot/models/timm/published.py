"""timm's published ImageNet-1k results: top-1 and parameters of each pretrained name.

timm publishes them in its repository's validation table, `results/results-imagenet.csv`
(model, img_size, top1, top1_err, top5, top5_err, param_count, crop_pct, interpolation; top-1
in %), which is read from TIMM_RESULTS_TABLE, or the file ``$CIFAR_ZEROSHOT_TIMM_RESULTS``
names. Where that file is absent, timm's figures are unknown (None), and a collection filtered
by parameters says so. A model evaluated at two sizes has two rows; the smaller is its input
size, the one timm's data config gives and this workflow runs at (the larger is timm's test
size).
"""

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.family import PublishedFigures
from cifar_zeroshot.models.timm.names import parse_timm_name, untrained_weights

TIMM_RESULTS_TABLE = Path(__file__).parents[1] / "data" / "timm_results_imagenet.csv"
TIMM_RESULTS_VARIABLE = "CIFAR_ZEROSHOT_TIMM_RESULTS"
_COLUMNS = ("model", "img_size", "top1", "param_count")


@dataclass(frozen=True)
class TimmResult:
    top1: float  # ImageNet-1k validation top-1, a fraction
    params_m: float  # parameters, millions
    image_size: int  # the size it was evaluated at


def timm_results_path() -> Path:
    """Where timm's published table is read from."""
    return Path(os.environ.get(TIMM_RESULTS_VARIABLE) or TIMM_RESULTS_TABLE)


def _number(text: str) -> float:
    return float(text.replace(",", ""))  # timm writes "1,014.45" for a billion parameters


@functools.cache
def read_timm_results(path: Path) -> dict[str, TimmResult]:
    """timm's table at ``path``: each '<architecture>.<tag>' at its smaller evaluated size."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise UserError(
                f"{path} is not timm's results-imagenet.csv: it lacks the column(s) "
                f"{', '.join(missing)}. Fix: replace it with the file from timm's repository "
                f"(results/results-imagenet.csv), or unset {TIMM_RESULTS_VARIABLE}."
            )
        results: dict[str, TimmResult] = {}
        for line, row in enumerate(reader, start=2):
            try:
                result = TimmResult(
                    _number(row["top1"]) / 100, _number(row["param_count"]), int(row["img_size"])
                )
            except (AttributeError, TypeError, ValueError):
                raise UserError(
                    f"{path}, line {line}: top1, param_count and img_size must be numbers "
                    f"({row!r}). Fix: replace the file with timm's results/results-imagenet.csv."
                ) from None
            known = results.get(row["model"])
            if known is None or result.image_size < known.image_size:
                results[row["model"]] = result
    return results


def timm_results() -> dict[str, TimmResult] | None:
    """timm's published table, None where the file is absent."""
    path = timm_results_path()
    return read_timm_results(path) if path.is_file() else None


def table_absent() -> str | None:
    """Why timm's parameter counts are unknown (its table is absent); None where present."""
    if timm_results_path().is_file():
        return None
    return (
        f"timm's published parameter counts are read from its results table, and "
        f"{timm_results_path()} is absent. Fix: put timm's results/results-imagenet.csv there "
        f"(or name it in ${TIMM_RESULTS_VARIABLE})"
    )


def timm_published(config_name: str, weights: str) -> PublishedFigures:
    """timm's published top-1 (None for untrained weights) and parameters of a config name;
    None for each where the table lacks the name or is absent."""
    spec = parse_timm_name(config_name)
    table = timm_results()
    result = None if spec is None or table is None else table.get(spec.name)
    if spec is None or result is None:
        return PublishedFigures(None, None)
    return PublishedFigures(
        None if untrained_weights(spec, weights) else result.top1, result.params_m
    )
