"""timm's published ImageNet-1k results: top-1 and parameters of each pretrained name.

timm publishes them in its repository's validation table, `results/results-imagenet.csv`
(model, img_size, top1, top1_err, top5, top5_err, param_count, crop_pct, interpolation; top-1
in %; Apache-2.0, as timm is). The workflow reads the table pinned in TIMM_RESULTS (the file at
one commit of huggingface/pytorch-image-models, with its SHA-256) from its cache under data/,
where planning downloads it (config.published_tables) or a user places it by hand; a cached
file is read only when its SHA-256 is the pinned one. A user's own copy (another timm version)
is read instead, unchecked, from the file ``$CIFAR_ZEROSHOT_TIMM_RESULTS`` names. Where the table
is not at hand, timm's figures are unknown (None) and table_unavailable says why and how to fix
it. A model evaluated at two sizes has two rows; the smaller is its input size, the one timm's
data config gives and this workflow runs at (the larger is timm's test size).
"""

import csv
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.family import PublishedFigures
from cifar_zeroshot.models.timm.names import parse_timm_name, untrained_weights

TIMM_RESULTS_VARIABLE = "CIFAR_ZEROSHOT_TIMM_RESULTS"
_COLUMNS = ("model", "img_size", "top1", "param_count")


@dataclass(frozen=True)
class PinnedTable:
    """timm's published table at one commit of its repository: where it is downloaded from, its
    SHA-256 and size, and the cache (relative to the working directory) it is kept in."""

    url: str
    sha256: str
    size: int  # bytes
    cache: Path

    def by_hand_hint(self) -> str:
        """How to get the table without network, or use one's own copy."""
        return (
            f"Without network, download {self.url} ({self.size:,} bytes, SHA-256 "
            f"{self.sha256}) by hand and put it at {self.cache}, or name your own copy of "
            f"timm's results-imagenet.csv in ${TIMM_RESULTS_VARIABLE}; then rerun."
        )


TIMM_RESULTS_COMMIT = "aa4b5850c1543fa488abf260f18390eda46cf85d"
TIMM_RESULTS = PinnedTable(
    url=(
        "https://raw.githubusercontent.com/huggingface/pytorch-image-models/"
        f"{TIMM_RESULTS_COMMIT}/results/results-imagenet.csv"
    ),
    sha256="30972bf7c7ab451bbd4480ec6116b13d0a84441c57bbc946896fd312264acfcd",
    size=123_104,
    cache=Path("data/published/timm-results-imagenet.csv"),
)


@dataclass(frozen=True)
class TimmResult:
    top1: float  # ImageNet-1k validation top-1, a fraction
    params_m: float  # parameters, millions
    image_size: int  # the size it was evaluated at


def own_copy() -> Path | None:
    """The user's own copy of timm's table (``$CIFAR_ZEROSHOT_TIMM_RESULTS``), None if unset."""
    named = os.environ.get(TIMM_RESULTS_VARIABLE, "").strip()
    return Path(named) if named else None


def timm_results_path(pinned: PinnedTable | None = None) -> Path:
    """Where timm's published table is read from: the user's own copy, else the cache of
    ``pinned`` (TIMM_RESULTS by default)."""
    return own_copy() or (pinned or TIMM_RESULTS).cache


@functools.cache
def _sha256(path: Path, _size: int, _mtime_ns: int) -> str:
    # Keyed by size and time too: a file replaced in place is hashed again.
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_sha256(path: Path) -> str:
    stat = path.stat()
    return _sha256(path, stat.st_size, stat.st_mtime_ns)


def table_unavailable(pinned: PinnedTable | None = None) -> str | None:
    """Why timm's table cannot be read, with the fix; None where it can."""
    pinned = pinned or TIMM_RESULTS
    named = own_copy()
    if named is not None:
        if named.is_file():
            return None
        return (
            f"timm's results table is read from {named} (named by ${TIMM_RESULTS_VARIABLE}), "
            f"which is absent. Fix: put your copy of timm's results-imagenet.csv there, or "
            f"unset {TIMM_RESULTS_VARIABLE} to use {pinned.cache} (downloaded by planning)"
        )
    if not pinned.cache.is_file():
        return (
            f"timm's results table {pinned.cache} is absent (planning downloads it where there "
            f"is network). Fix: rerun with network, or download {pinned.url} ({pinned.size:,} "
            f"bytes, SHA-256 {pinned.sha256}) by hand and put it at {pinned.cache}, or name "
            f"your own copy in ${TIMM_RESULTS_VARIABLE}"
        )
    digest = file_sha256(pinned.cache)
    if digest != pinned.sha256:
        return (
            f"timm's results table {pinned.cache} is not the pinned file (its SHA-256 is "
            f"{digest}, expected {pinned.sha256}). Fix: delete it and rerun with network, or "
            f"replace it with {pinned.url}, or name your own copy in ${TIMM_RESULTS_VARIABLE}"
        )
    return None


def _number(text: str) -> float:
    return float(text.replace(",", ""))  # timm writes "1,014.45" for a billion parameters


def read_timm_results(path: Path) -> dict[str, TimmResult]:
    """timm's table at ``path``: each '<architecture>.<tag>' at its smaller evaluated size."""
    stat = path.stat()
    return _read_timm_results(path, stat.st_size, stat.st_mtime_ns)


@functools.cache
def _read_timm_results(path: Path, _size: int, _mtime_ns: int) -> dict[str, TimmResult]:
    # Keyed by size and time too: a file replaced in place (downloaded) is read again.
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


def timm_results(pinned: PinnedTable | None = None) -> dict[str, TimmResult] | None:
    """timm's published table, None where it is not at hand (table_unavailable says why)."""
    return None if table_unavailable(pinned) else read_timm_results(timm_results_path(pinned))


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
