"""Every runtime of the table has a forward loader, and the torch one loads the model as asked."""

import pytest
import torch

from cifar_zeroshot.core.runtime_table import RUNTIMES
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.runtimes.forward_loading import FORWARD_LOADERS, forward_loader


def test_every_runtime_has_a_forward_loader_and_every_loader_a_runtime() -> None:
    assert set(FORWARD_LOADERS) == set(RUNTIMES)


def test_the_torch_loader_moves_the_model_to_the_dtype_in_eval_mode() -> None:
    built = []

    def model_loader(name, weights):
        built.append((name, weights))
        return torch.nn.Sequential(torch.nn.Conv2d(3, 2, 1), torch.nn.Dropout()).train()

    load = forward_loader(Variant("bf16"), None, 1, model_loader)
    model = load("tiny", None, torch.device("cpu"), torch.bfloat16, True)
    assert built == [("tiny", None)]
    assert isinstance(model, torch.nn.Module) and not model.training
    assert next(model.parameters()).dtype == torch.bfloat16


def test_the_torch_loader_leaves_a_model_with_rank_5_tensors_in_its_own_format() -> None:
    # timm's lambda layers hold rank-5 weights: Module.to(channels_last) refuses those.
    timm = pytest.importorskip("timm")

    def model_loader(name, weights):
        return timm.create_model(name, pretrained=False)

    load = forward_loader(Variant("fp32"), None, 1, model_loader)
    model = load("lambda_resnet26t.c1_in1k", None, torch.device("cpu"), torch.float32, True)
    assert isinstance(model, torch.nn.Module)
    stem = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert stem.weight.is_contiguous()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 1000)


def test_the_torch_loader_makes_a_plain_model_channels_last() -> None:
    load = forward_loader(Variant("fp32"), None, 1, lambda n, w: torch.nn.Conv2d(3, 2, 3))
    model = load("tiny", None, torch.device("cpu"), torch.float32, True)
    assert model.weight.is_contiguous(memory_format=torch.channels_last)
