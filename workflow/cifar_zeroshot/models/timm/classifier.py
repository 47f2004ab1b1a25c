"""A timm classifier as the inference job runs it: logits, and the penultimate features beside
them for the linear probe, from timm's own pre-logits path.

timm splits every model's forward into ``forward_features`` and ``forward_head``, and
``forward_head(x, pre_logits=True)`` returns what the final classifier receives. So one pass
gives both, as models.penultimate.WithFeatures does for torchvision's models, without hooks
(which break torch.compile graphs and do not survive ONNX export).
"""

import torch
from torch import nn


def feature_width(model: nn.Module, input_size: tuple[int, int, int]) -> int:
    """The width of the model's pre-logits features (its classifier's input)."""
    classifier = model.get_classifier()
    if isinstance(classifier, nn.Linear):
        return classifier.in_features
    # Another head (a convolution, an MLP): one blank image tells.
    parameter = next(model.parameters())
    with torch.inference_mode():
        blank = torch.zeros(1, *input_size, device=parameter.device, dtype=parameter.dtype)
        return int(model.forward_head(model.forward_features(blank), pre_logits=True).shape[-1])


class TimmClassifier(nn.Module):
    """A timm model: logits [B, C]; with ``features``, [B, C + F] logits then pre-logits
    features; with ``features`` and not ``logits``, the features alone [B, F]."""

    def __init__(
        self,
        model: nn.Module,
        input_size: tuple[int, int, int],
        *,
        features: bool = False,
        logits: bool = True,
    ) -> None:
        super().__init__()
        self.model = model
        self.features = features
        self.logits = logits or not features
        classes = int(model.num_classes)
        width = feature_width(model, input_size) if features else 0
        self.feature_width = width
        # What the inference job reads off its forward (models.penultimate.WithFeatures has it).
        self.output_width = width + (classes if self.logits else 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.features:
            return self.model(x)
        body = self.model.forward_features(x)
        features = self.model.forward_head(body, pre_logits=True)
        if not self.logits:
            return features
        return torch.cat([self.model.forward_head(body), features], dim=1)
