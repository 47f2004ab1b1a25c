"""Every runtime of the table has a forward loader, and the torch one loads the model as asked."""

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
