"""An operator without an ONNX translation, so that a test can make the exporter give up.

Registered once (torch refuses a second registration of the same name): the exporter's message
then names it, cifar_zeroshot_test.mystery.
"""

import torch


@torch.library.custom_op("cifar_zeroshot_test::mystery", mutates_args=())
def mystery(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1)[:, :1000].clone()


@mystery.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1)[:, :1000].clone()
