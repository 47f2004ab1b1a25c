"""Small JSON files that spare planning an import of torch or open_clip on every snakemake start.

Each holds facts read once from an installed package version (model names, feature widths,
CLIP tags), in ``$CIFAR_ZEROSHOT_CACHE`` (by default ``~/.cache/cifar-zeroshot``). A cache file is
a hint, never an authority: one that cannot be read, is not a regular file, is too large or does
not parse is ignored (and rebuilt by its owner); one that cannot be written is skipped.
"""

import importlib.metadata
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from cifar_zeroshot.core.atomic import atomic_path

log = logging.getLogger(__name__)

T = TypeVar("T")

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


def is_text_list(value: object) -> bool:
    """Whether a parsed JSON value is a list of strings (a cache's names)."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


class PackageFacts(Generic[T]):
    """Facts read from an installed package once per version: from its cache file when that
    holds them all, else from the package itself (the seconds the cache exists to save), and
    the file rewritten. A file ``parse`` cannot vouch for (None) is never believed."""

    def __init__(
        self,
        package: str,  # the distribution whose version keys the cache, e.g. "torchvision"
        file_name: str,  # with "{version}", e.g. "torchvision-{version}-models.json"
        build: Callable[[str], T],  # reads the facts from the package (version given)
        parse: Callable[[object, str], T | None],  # the facts a file holds, or None
        to_json: Callable[[T], object],
    ) -> None:
        self.package, self.file_name = package, file_name
        self.build, self.parse, self.to_json = build, parse, to_json
        self.loaded: T | None = None
        self.loaded_version = ""
        self.read_from_package = False  # whether ``loaded`` came from the package, not the file

    def path(self) -> Path:
        """The cache file for the installed version of the package."""
        return cache_path(self.file_name.format(version=importlib.metadata.version(self.package)))

    def get(self, *, fresh: bool = False) -> T:
        """The facts, once per process; ``fresh``: from the package itself (once per process),
        when the file may be stale (a name it lacks may still exist)."""
        version = importlib.metadata.version(self.package)
        settled = self.read_from_package or not fresh
        if self.loaded is not None and self.loaded_version == version and settled:
            return self.loaded
        path = cache_path(self.file_name.format(version=version))
        raw = None if fresh else read_json_cache(path)
        found = None if raw is None else self.parse(raw, version)
        if raw is not None and found is None:
            log.info("ignoring the cache file %s (not %s %s's)", path, self.package, version)
        self.read_from_package = found is None
        if found is None:
            found = self.build(version)
            write_json_cache(path, self.to_json(found))
        self.loaded, self.loaded_version = found, version
        return found
