"""A model's architecture family, to colour a collection's models alike."""

import pytest

from cifar_zeroshot.models.architecture_family import architecture_family


@pytest.mark.parametrize(
    ("config_name", "family"),
    [
        ("timm:resnet50.a1_in1k", "resnet"),
        ("resnet50", "resnet"),
        ("timm:resnet50d.a1_in1k", "resnet"),
        ("vgg16_bn", "vgg"),
        ("vgg11", "vgg"),
        ("mobilenet_v3_large", "mobilenet"),
        ("timm:mobilenetv3_small_100.lamb_in1k", "mobilenet"),
        ("timm:tf_efficientnet_b0.in1k", "efficientnet"),
        ("efficientnet_v2_s", "efficientnet"),
        ("wide_resnet50_2", "wide_resnet"),
        ("timm:vit_base_patch16_224.augreg_in1k", "vit"),
        ("vit_b_16", "vit"),
        ("clip:ViT-B-32/openai", "vit"),
        ("regnet_y_400mf", "regnet"),
        ("squeezenet1_0", "squeezenet"),
        ("shufflenet_v2_x1_0", "shufflenet"),
        ("inception_v3", "inception"),
        ("resnext50_32x4d", "resnext"),
        ("timm:deit3_small_patch16_224.fb_in1k", "deit"),
        ("timm:convnext_atto.d2_in1k", "convnext"),
        ("convnext_tiny", "convnext"),
        ("alexnet", "alexnet"),
        # A user's weights file: its architecture's family.
        ("squeezenet1_0.file-0123abcd", "squeezenet"),
    ],
)
def test_architecture_family(config_name, family):
    assert architecture_family(config_name) == family
