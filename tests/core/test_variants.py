import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import VARIANT_NAME_PATTERN, Variant, variants_from_config


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("fp32", Variant("fp32", False, "weights")),
        ("bf16-compile", Variant("bf16", True, "weights")),
        ("tf32-labreport", Variant("tf32", False, "labreport")),
        ("bf16-compile-labreport", Variant("bf16", True, "labreport")),
        ("fp32-onnxruntime", Variant("fp32", False, "weights", "onnxruntime")),
        ("tf32-onnxruntime-labreport", Variant("tf32", False, "labreport", "onnxruntime")),
    ],
)
def test_names_round_trip(name, variant):
    assert Variant.parse(name) == variant
    assert variant.name == name
    assert name in VARIANT_NAME_PATTERN.split("|")


def test_torch_runtime_keeps_the_names_files_had_before_the_runtime_axis():
    assert Variant("fp32", runtime="torch").name == "fp32"
    assert Variant("bf16", True, runtime="torch").name == "bf16-compile"
    assert "fp32-torch" not in VARIANT_NAME_PATTERN.split("|")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("fp16", "Unknown precision 'fp16'"),
        ("fp32-weights", "expected <precision>"),
        ("fp32-labreport-compile", "Unknown preprocess 'labreport-compile'|expected"),
        ("fp32-compile-compile", "Unknown preprocess 'compile'"),
        ("fp32-torch", "Unknown preprocess 'torch'|expected"),
        ("fp32-labreport-onnxruntime", "expected <precision>"),
        ("fp32-compile-onnxruntime", "torch.compile applies to the torch runtime only"),
        ("bf16-onnxruntime", "runs precision fp32 or tf32"),
    ],
)
def test_bad_names_say_what_is_allowed(name, message):
    with pytest.raises(UserError, match=message):
        Variant.parse(name)


def test_unknown_runtime_names_the_allowed_ones():
    with pytest.raises(
        UserError, match="Unknown runtime 'tensorrt': use one of torch, onnxruntime"
    ):
        Variant("fp32", runtime="tensorrt")


def test_reference_is_torch_fp32_eager_with_same_preprocessing():
    assert Variant("bf16", True, "labreport").reference == Variant("fp32", False, "labreport")
    reference = Variant("fp32", False, "weights", "onnxruntime").reference
    assert (reference.name, reference.runtime) == ("fp32", "torch")


def test_config_product_is_ordered_and_unique():
    variants = variants_from_config(["fp32", "bf16", "fp32"], [False, True], ["weights"], ["torch"])
    assert [v.name for v in variants] == ["fp32", "fp32-compile", "bf16", "bf16-compile"]


def test_onnxruntime_runs_once_per_precision_it_supports_whatever_compile_lists():
    variants = variants_from_config(
        ["fp32", "bf16"], [False, True], ["weights"], ["torch", "onnxruntime"]
    )
    assert [v.name for v in variants] == [
        "fp32",
        "fp32-compile",
        "fp32-onnxruntime",
        "bf16",
        "bf16-compile",
    ]


def test_a_runtime_left_without_a_variant_is_refused():
    with pytest.raises(UserError, match="config key 'runtime': onnxruntime runs precision fp32"):
        variants_from_config(["bf16"], [False], ["weights"], ["torch", "onnxruntime"])
