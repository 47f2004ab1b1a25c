import pytest

from cifar_zeroshot.errors import UserError
from cifar_zeroshot.variants import VARIANT_NAME_PATTERN, Variant, variants_from_config


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("fp32", Variant("fp32", False, "weights")),
        ("bf16-compile", Variant("bf16", True, "weights")),
        ("tf32-labreport", Variant("tf32", False, "labreport")),
        ("bf16-compile-labreport", Variant("bf16", True, "labreport")),
    ],
)
def test_names_round_trip(name, variant):
    assert Variant.parse(name) == variant
    assert variant.name == name
    assert name in VARIANT_NAME_PATTERN.split("|")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("fp16", "Unknown precision 'fp16'"),
        ("fp32-weights", "expected <precision>"),
        ("fp32-labreport-compile", "Unknown preprocess 'labreport-compile'|expected"),
        ("fp32-compile-compile", "Unknown preprocess 'compile'"),
    ],
)
def test_bad_names_say_what_is_allowed(name, message):
    with pytest.raises(UserError, match=message):
        Variant.parse(name)


def test_reference_is_fp32_eager_with_same_preprocessing():
    assert Variant("bf16", True, "labreport").reference == Variant("fp32", False, "labreport")


def test_config_product_is_ordered_and_unique():
    variants = variants_from_config(["fp32", "bf16", "fp32"], [False, True], ["weights"])
    assert [v.name for v in variants] == ["fp32", "fp32-compile", "bf16", "bf16-compile"]
