"""A Hugging Face hub cache for tests: offline, and files placed where its layout keeps them."""

from pathlib import Path

import huggingface_hub.constants
import pytest


def offline_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty hub cache under ``tmp_path`` in offline mode: nothing can be downloaded."""
    cache = tmp_path / "hub"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return cache


def cached_file_path(cache: Path, repo_id: str, filename: str) -> Path:
    """Where the hub cache's layout puts a file of revision main (refs/main -> snapshot)."""
    folder = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    path = folder / "snapshots" / commit / filename
    path.parent.mkdir(parents=True)
    return path
