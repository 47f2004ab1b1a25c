"""Tests for cifar_zeroshot.inference.host_memory: the CPU batch's host-memory estimate."""

from pathlib import Path

import pytest
import torch

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.inference import host_memory
from cifar_zeroshot.inference.host_memory import (
    SAFETY_FACTOR,
    USABLE_SHARE,
    available_host_bytes,
    cpu_batch_that_fits,
    traced_bytes_per_image,
)


def _small_net() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(800, 10)
    )


def test_trace_finds_the_largest_layer_input_plus_output() -> None:
    # Conv: 3x10x10 in, 8x10x10 out; Flatten: 800 in and 800 out; Linear: 800 in, 10 out.
    per_image = traced_bytes_per_image(_small_net, (3, 10, 10), torch.float32)
    assert per_image == (800 + 800) * 4
    assert traced_bytes_per_image(_small_net, (3, 10, 10), torch.bfloat16) == (800 + 800) * 2


class _ReadsData(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * float(x.sum().item())  # needs real data: impossible on the meta device


def test_a_model_that_cannot_be_traced_has_no_estimate() -> None:
    assert traced_bytes_per_image(_ReadsData, (3, 4, 4), torch.float32) is None
    assert cpu_batch_that_fits(64, None, 1, what="m") == 64  # no estimate: left as asked


def test_the_batch_is_halved_until_the_estimate_fits() -> None:
    per_image = 1000
    room = int(10 * per_image * SAFETY_FACTOR / USABLE_SHARE)  # 10 images
    assert cpu_batch_that_fits(8, per_image, room, what="m") == 8
    assert cpu_batch_that_fits(10, per_image, room, what="m") == 10
    assert cpu_batch_that_fits(100, per_image, room, what="m") == 6  # 100, 50, 25, 12, 6


def test_not_even_one_image_fits_names_the_figures_and_the_fix() -> None:
    with pytest.raises(UserError) as caught:
        cpu_batch_that_fits(4, 200 * 2**20, 100 * 2**20, what="vgg16 (fp32)")
    message = str(caught.value)
    assert "vgg16 (fp32) needs about 600 MiB" in message and "only 100 MiB" in message
    assert "inference_mem_mb" in message


def test_the_cgroup_limit_caps_what_is_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(host_memory, "_CGROUP", tmp_path)
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text("100\n")
    unlimited = available_host_bytes()
    assert unlimited > 2**20  # the kernel's figure
    (tmp_path / "memory.max").write_text(f"{2**20 + 100}\n")
    assert available_host_bytes() == 2**20
