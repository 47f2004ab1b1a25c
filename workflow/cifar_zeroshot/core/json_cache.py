"""Small JSON files that spare planning an import of torch or open_clip on every snakemake start.

Each holds facts read once from an installed package version (model names, feature widths,
CLIP tags), in ``$CIFAR_ZEROSHOT_CACHE`` (by default ``~/.cache/cifar-zeroshot``). A cache file is
a hint, never an authority: one that cannot be read, is not a regular file, is too large or does
not parse is ignored (and rebuilt by its owner); one that cannot be written is skipped.
"""

import json
import logging
import os
from pathlib import Path

from cifar_zeroshot.core.atomic import atomic_path

log = logging.getLogger(__name__)

MOST_BYTES = 1 << 20  # the largest cache file is about 30 kB


def cache_path(name: str) -> Path:
    """Where the cache file ``name`` lives."""
    root = os.environ.get("CIFAR_ZEROSHOT_CACHE") or Path.home() / ".cache" / "cifar-zeroshot"
    return Path(root) / name


def read_json_cache(path: Path) -> object | None:
    """The JSON value in ``path``; None where there is none or it cannot be trusted to be one."""
    if not path.exists():
        return None
    try:
        if not path.is_file():  # /dev/zero or a pipe would never end
            raise ValueError("not a regular file")
        with path.open("rb") as handle:
            data = handle.read(MOST_BYTES + 1)
        if len(data) > MOST_BYTES:
            raise ValueError(f"over {MOST_BYTES:,} bytes")
        return json.loads(data)
    except (OSError, ValueError) as error:
        log.info("ignoring the cache file %s (%s)", path, error)
        return None


def write_json_cache(path: Path, value: object) -> None:
    """Write ``value`` to ``path`` whole (atomically), or log why not and go on without."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as temp:
            temp.write_text(json.dumps(value), encoding="utf-8")
    except OSError as error:
        log.info("could not write the cache file %s (%s)", path, error)
