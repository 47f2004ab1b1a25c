"""The runtime table: its facts hold together, and variants follow them, whatever the runtime's
name (a runtime added to the table is named, checked and combined by its facts alone)."""

import pytest

from cifar_zeroshot.core import choices, runtime_table, variants
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.runtime_table import RUNTIMES, Runtime
from cifar_zeroshot.core.variants import Variant, variants_from_config

# A runtime the table does not hold, built like ONNX Runtime: it reads the export, fp32 only.
OPENVINO = Runtime(
    "openvino", precisions=("fp32",), compiles=False, reads_export=True, writes_features=False
)


@pytest.fixture
def with_openvino(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(runtime_table.RUNTIMES, OPENVINO.name, OPENVINO)
    monkeypatch.setattr(variants, "RUNTIMES", (*choices.RUNTIMES, OPENVINO.name))


def test_the_table_is_keyed_by_name_and_names_fit_in_a_variant_name() -> None:
    for name, runtime in RUNTIMES.items():
        assert runtime.name == name
        assert "-" not in name and name not in ("compile", *choices.PREPROCESSINGS)
        assert runtime.precisions and set(runtime.precisions) <= set(choices.PRECISIONS)


def test_choices_are_the_tables() -> None:
    assert tuple(RUNTIMES) == choices.RUNTIMES
    precisions = {p for runtime in RUNTIMES.values() for p in runtime.precisions}
    assert set(choices.PRECISIONS) == precisions
    assert choices.PRECISIONS == ("fp32", "tf32", "bf16", "int8")


def test_the_reference_runs_every_unquantised_precision_compiled_and_writes_features() -> None:
    reference = RUNTIMES[choices.REFERENCE_RUNTIME]
    quantised = {p for runtime in RUNTIMES.values() for p in runtime.quantised}
    assert reference.precisions == tuple(p for p in choices.PRECISIONS if p not in quantised)
    assert not reference.quantised
    assert reference.compiles and reference.writes_features and not reference.reads_export


def test_the_shipped_runtimes_facts() -> None:
    torch, onnx = RUNTIMES["torch"], RUNTIMES["onnxruntime"]
    assert (torch.compiles, torch.reads_export, torch.writes_features) == (True, False, True)
    assert (onnx.compiles, onnx.reads_export, onnx.writes_features) == (False, True, False)
    assert onnx.precisions == ("fp32", "tf32", "int8")
    assert onnx.quantised == ("int8",) and torch.quantised == ()


def test_variant_runtime_spec_is_the_table_entry() -> None:
    assert Variant("tf32", runtime="onnxruntime").runtime_spec is RUNTIMES["onnxruntime"]
    assert Variant("bf16").runtime_spec is RUNTIMES["torch"]


@pytest.mark.usefixtures("with_openvino")
def test_a_runtime_added_to_the_table_is_named_and_checked_by_its_facts() -> None:
    variant = Variant("fp32", preprocess="labreport", runtime="openvino")
    assert variant.name == "fp32-openvino-labreport"
    assert Variant.parse(variant.name) == variant
    with pytest.raises(UserError, match=r"The openvino runtime runs precision fp32 \(the expo"):
        Variant("tf32", runtime="openvino")
    with pytest.raises(UserError, match="torch.compile applies to the torch runtime only, not"):
        Variant("fp32", True, runtime="openvino")


@pytest.mark.usefixtures("with_openvino")
def test_a_runtime_added_to_the_table_is_combined_by_its_facts() -> None:
    planned = variants_from_config(["fp32", "bf16"], [False, True], ["weights"], ["openvino"])
    assert [v.name for v in planned] == ["fp32-openvino"]
    with pytest.raises(UserError, match="openvino runs precision fp32 only, and precision lists"):
        variants_from_config(["tf32"], [False], ["weights"], ["torch", "openvino"])
