"""A classifier's penultimate features: the input of its final linear layer, from the same pass.

The linear probe needs, for every image, what the model's final ``nn.Linear`` receives. Rather
than hooking the layer (hooks break torch.compile graphs and do not survive ONNX export), the
layer is taken out of the model and applied by a wrapper, which returns the logits and the
features side by side in one tensor: one forward pass gives both, and the batch loop, the
read-back buffers and the exported graph stay those of a single output.
"""

from collections.abc import Callable

import torch
from torch import nn

from cifar_zeroshot.core.errors import UserError

# Layers that can follow the final linear layer in registration order without changing its
# output at inference (none of torchvision's classifiers has one there today).
_NEUTRAL = (nn.Dropout, nn.Identity)


def _final_leaf(model: nn.Module) -> tuple[str, nn.Module] | None:
    """The last leaf module in registration order that is not a no-op at inference."""
    found = None
    for name, module in model.named_modules():
        if not any(True for _ in module.children()) and not isinstance(module, _NEUTRAL):
            found = (name, module)
    return found


def final_linear(model: nn.Module, model_name: str) -> tuple[nn.Module, str, nn.Linear]:
    """(parent module, attribute, layer) of the model's final linear classifier.

    Raises UserError when the model's last layer is not linear (SqueezeNet ends in a
    convolution): it has no penultimate feature vector for the probe to read.
    """
    path, layer = _final_leaf(model) or ("", None)
    if not isinstance(layer, nn.Linear):
        kind = type(layer).__name__ if layer is not None else "nothing"
        raise UserError(
            f"{model_name}'s final layer is {kind}, not a linear classifier, so it has no "
            "penultimate features for the linear probe. Its zero-shot runs go ahead; to probe "
            "it, choose a model that ends in a linear layer (e.g. resnet50, vgg16, alexnet)."
        )
    parent_path, _, attribute = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    return parent, attribute, layer


def check_probe_ready(build: Callable[[], nn.Module], model_name: str) -> int:
    """The feature width of the model ``build()`` makes (on the meta device, so no weights).

    Raises UserError when the model has no final linear layer.
    """
    try:
        with torch.device("meta"):
            model = build()
    except NotImplementedError:  # a builder that reads its own data (RegNet): build it for real
        model = build()
    _, _, layer = final_linear(model, model_name)
    return layer.in_features


class WithFeatures(nn.Module):
    """``model`` with its final linear layer applied here: [B, 1000 + F] logits then features.

    ``logits=False`` leaves the logits out ([B, F]): the training-set jobs only need features.
    The model is changed in place (its final layer becomes an identity).
    """

    def __init__(self, model: nn.Module, model_name: str, logits: bool = True) -> None:
        super().__init__()
        parent, attribute, layer = final_linear(model, model_name)
        setattr(parent, attribute, nn.Identity())
        self.body = model
        self.head = layer
        self.logits = logits

    @property
    def feature_width(self) -> int:
        return self.head.in_features

    @property
    def output_width(self) -> int:
        return self.feature_width + (self.head.out_features if self.logits else 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.body(x)
        if not self.logits:
            return features
        return torch.cat([self.head(features), features], dim=1)
