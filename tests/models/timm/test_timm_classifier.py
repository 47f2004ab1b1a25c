"""A timm classifier's logits and its pre-logits features from one pass."""

import pytest
import torch

from cifar_zeroshot.models.timm.classifier import TimmClassifier, feature_width
from cifar_zeroshot.models.timm.names import TimmSpec
from cifar_zeroshot.models.timm.weights import load_timm_model


@pytest.mark.parametrize("name", ["test_vit.r160_in1k", "test_efficientnet.r160_in1k"])
def test_features_are_timms_pre_logits_beside_the_same_logits(name) -> None:
    model = load_timm_model(TimmSpec(*name.split(".")), untrained=True)
    images = torch.randn(2, 3, 160, 160)
    with torch.inference_mode():
        expected_logits = model(images)
        expected = model.forward_head(model.forward_features(images), pre_logits=True)
        both = TimmClassifier(model, (3, 160, 160), features=True)(images)
        only = TimmClassifier(model, (3, 160, 160), features=True, logits=False)(images)
        plain = TimmClassifier(model, (3, 160, 160))
    width = feature_width(model, (3, 160, 160))
    assert width == expected.shape[1]
    assert both.shape == (2, 1000 + width)
    torch.testing.assert_close(both[:, :1000], expected_logits)
    torch.testing.assert_close(both[:, 1000:], expected)
    torch.testing.assert_close(only, expected)
    assert plain.output_width == 1000
