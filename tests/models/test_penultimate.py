"""Tests for cifar_zeroshot.models.penultimate: logits and features from one forward pass."""

import pytest
import torch
import torchvision
from torch import nn

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.penultimate import WithFeatures, check_probe_ready, final_linear


def _untrained(name: str) -> nn.Module:
    torch.manual_seed(0)
    return torchvision.models.get_model(name, weights=None).eval()


@pytest.mark.parametrize(("name", "width"), [("alexnet", 4096), ("resnet18", 512)])
def test_logits_are_unchanged_and_features_are_the_final_layers_input(name, width):
    x = torch.randn(2, 3, 64, 64)
    reference = _untrained(name)
    with torch.no_grad():
        expected = reference(x)
        seen = []
        _, _, layer = final_linear(reference, name)
        layer.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0]))
        reference(x)
        wrapped = WithFeatures(_untrained(name), name)
        both = wrapped(x)
        only_features = WithFeatures(_untrained(name), name, logits=False)(x)
    assert wrapped.feature_width == width and wrapped.output_width == 1000 + width
    assert both.shape == (2, 1000 + width)
    torch.testing.assert_close(both[:, :1000], expected)
    torch.testing.assert_close(both[:, 1000:], seen[-1])
    torch.testing.assert_close(only_features, seen[-1])


def test_a_model_that_ends_in_a_convolution_is_refused_with_the_reason():
    with pytest.raises(UserError) as caught:
        check_probe_ready(lambda: torchvision.models.get_model("squeezenet1_1"), "squeezenet1_1")
    message = str(caught.value)
    assert "squeezenet1_1's final layer is AdaptiveAvgPool2d, not a linear classifier" in message
    assert "zero-shot runs go ahead" in message


def test_widths_are_read_without_building_weights_and_regnet_falls_back():
    build = lambda: torchvision.models.get_model("vgg16")  # noqa: E731
    assert check_probe_ready(build, "vgg16") == 4096
    # RegNet's builder reads its own data, which the meta device cannot give.
    regnet = lambda: torchvision.models.get_model("regnet_y_400mf")  # noqa: E731
    assert check_probe_ready(regnet, "regnet_y_400mf") == 440


def test_dropout_after_the_final_linear_layer_is_looked_past():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.Dropout(0.5))
    parent, attribute, layer = final_linear(model, "toy")
    assert parent is model and attribute == "1" and layer is model[1]
