"""Files planted where the workflow reads weights: a pickle that would run code when unpickled,
an offline torch hub cache, and published names that carry a file's own hash."""

import hashlib
import os
import urllib.error
from pathlib import Path

import pytest
import torch
from torchvision.models import WeightsEnum


class _CreatesMarker:
    """Unpickled by anything but torch's weights-only loader, it creates the file ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.marker), "w")


def plant_payload(path: Path, marker: Path) -> Path:
    """A torch.save file at ``path`` that looks like a state dict and runs code when unpickled."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"features.0.weight": _CreatesMarker(marker)}, path)
    return path


def offline_torch_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch hub cache under ``tmp_path``; downloads fail as they would offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    # set_dir() pins a process-wide value; patching it keeps other tests unaffected.
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))

    def offline(url: str, *args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("network is unreachable (test)")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    return tmp_path / "hub"


def publish_under_own_hash(
    weights: WeightsEnum, file: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Give ``weights`` a published name carrying ``file``'s SHA-256 prefix, as torch hub names
    published weights, and move ``file`` to where the hub cache keeps that name."""
    digest = hashlib.sha256(file.read_bytes()).hexdigest()[:8]
    name = f"{os.path.basename(weights.url).split('-')[0]}-{digest}.pth"
    monkeypatch.setattr(weights.value, "url", f"https://download.pytorch.org/models/{name}")
    target = Path(torch.hub.get_dir()) / "checkpoints" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    file.replace(target)
    return target
