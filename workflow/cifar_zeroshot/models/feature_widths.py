"""Whether a torchvision classifier has penultimate features for the linear probe, and how many,
without importing torch on every snakemake start.

Planning asks this of every model when the probe is on. Building a model (on the meta device) to
find its final linear layer costs an import of torchvision and a second or more per model, so the
answers are kept per torchvision version in a cache file (core.json_cache): a model's feature
width, or the reason it has none. A model the cache lacks is built once and added.
"""

import importlib.metadata
from pathlib import Path

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.json_cache import cache_path, read_json_cache, write_json_cache


def _cache_file(version: str) -> Path:
    return cache_path(f"torchvision-{version}-feature-widths.json")


def _valid(entry: object) -> bool:
    """A width (a positive int) or a reason (text)."""
    if isinstance(entry, bool):
        return False
    return (isinstance(entry, int) and entry > 0) or (isinstance(entry, str) and bool(entry))


def _cached(version: str) -> dict[str, int | str]:
    raw = read_json_cache(_cache_file(version))
    if not isinstance(raw, dict) or raw.get("torchvision") != version:
        return {}
    widths = raw.get("widths")
    if not isinstance(widths, dict):
        return {}
    return {name: entry for name, entry in widths.items() if _valid(entry)}


def _measure(model: str) -> int | str:
    """The width of ``model``'s penultimate features, or why it has none (imports torch)."""
    import torchvision

    from cifar_zeroshot.models.penultimate import check_probe_ready

    try:
        return check_probe_ready(lambda: torchvision.models.get_model(model), model)
    except UserError as error:
        return str(error)


def feature_widths(models: list[str]) -> dict[str, int | str]:
    """Each torchvision classifier of ``models`` -> its feature width, or the reason (a
    UserError's text) that the probe cannot read it. The names must already be checked."""
    version = importlib.metadata.version("torchvision")
    known = _cached(version)
    missing = [model for model in dict.fromkeys(models) if model not in known]
    if missing:
        known.update({model: _measure(model) for model in missing})
        write_json_cache(_cache_file(version), {"torchvision": version, "widths": known})
    return {model: known[model] for model in models}
