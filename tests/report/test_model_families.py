"""Tests for report.model_families and report.point_labels: families from names, bounded
legend groups, the Pareto front."""

import numpy as np
import pytest

from cifar_zeroshot.models.architecture_family import architecture_family
from cifar_zeroshot.report.model_families import OTHER, bounded_groups, group_order
from cifar_zeroshot.report.point_labels import pareto_front


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("resnet50", "resnet"),
        ("timm-resnet50.a1_in1k", "resnet"),
        ("timm:resnet50.a1_in1k", "resnet"),
        ("vgg16_bn", "vgg"),
        ("efficientnet_b0", "efficientnet"),
        ("efficientnet_v2_s", "efficientnet"),
        ("clip-RN50.openai", "clip"),
        ("clip:ViT-B-32.laion2b_s34b_b79k", "clip"),
        ("timm-vit_base_patch16_clip_224.openai", "clip"),
        ("convnextv2_tiny", "convnext"),
        ("mobilenet_v3_large", "mobilenet"),
        ("timm-mobilenetv3_large_100.ra_in1k", "mobilenet"),
        ("regnet_y_400mf", "regnet"),
        ("timm-regnety_040.ra3_in1k", "regnet"),
        ("wide_resnet50_2", "wide_resnet"),
        ("vit_b_16", "vit"),
        ("timm-test_vit.r160_in1k", "vit"),
        ("levit_128", "levit"),
        ("squeezenet1_1", "squeezenet"),
        ("googlenet", "inception"),
    ],
)
def test_architecture_family_from_the_name(model, family):
    assert architecture_family(model) == family


def test_bounded_groups_name_the_commonest_and_pool_the_rest():
    names = ["resnet"] * 5 + ["vit"] * 3 + ["vgg"] * 2 + ["alexnet", "swin"]
    groups = bounded_groups(names, most=2)
    assert groups == {
        "resnet": "resnet",
        "vit": "vit",
        "vgg": OTHER,
        "alexnet": OTHER,
        "swin": OTHER,
    }
    assert group_order(groups) == ["resnet", "vit", OTHER]
    # One name left over keeps its name: an "other" of one says less than the name.
    assert bounded_groups(["a", "a", "b"], most=1) == {"a": "a", "b": "b"}
    assert len(set(bounded_groups([str(i) for i in range(200)], most=9).values())) == 10


def test_pareto_front_of_a_staircase():
    speed = np.array([100.0, 800.0, 3100.0, 95.0, 500.0, np.nan])
    top1 = np.array([0.70, 0.55, 0.65, 0.75, 0.60, 0.99])
    # 800/s at 55 % is beaten by 3,100/s at 65 %; 100/s at 70 % by nothing faster and better;
    # 500/s at 60 % by 3,100/s at 65 %; a run without a speed is never on the front.
    assert pareto_front(speed, top1).tolist() == [True, False, True, True, False, False]
    # Fewer FLOPs is better: 95 at 75 % beats 100 at 70 %, and every other.
    assert pareto_front(speed, top1, x_higher_is_better=False).tolist() == [
        False,
        False,
        False,
        True,
        False,
        False,
    ]
    # Equal points are both on the front.
    assert pareto_front(np.array([1.0, 1.0]), np.array([0.5, 0.5])).tolist() == [True, True]


def test_pareto_front_is_exactly_the_undominated_points():
    rng = np.random.default_rng(3)
    x, y = rng.random(300), rng.random(300)
    front = pareto_front(x, y)
    for i in range(300):
        beaten = (x >= x[i]) & (y >= y[i]) & ((x > x[i]) | (y > y[i]))
        assert front[i] == (not beaten.any())
    assert 1 <= front.sum() < 30
