"""The runtimes that run a variant's forward pass, and the facts about each the code asks.

The code asks the table (``RUNTIMES[name].reads_export``, ``Variant.runtime_spec``) rather than
compare runtime names, so a runtime is added here, with its forward loader
(runtimes.forward_loading.FORWARD_LOADERS) and the schema's allowed ``runtime`` values.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Runtime:
    name: str  # the config's `runtime` value, and the variant name's part (no '-')
    precisions: tuple[str, ...]  # the `precision` values it runs
    compiles: bool  # torch.compile applies to its model
    reads_export: bool  # it runs the ONNX file the export rule builds, not the torch model
    writes_features: bool  # its runs write penultimate features (what the linear probe reads)
    # Precisions it runs on a quantised copy of the export (its own rule, file and record), with
    # the weights' preprocessing only: the copy is calibrated through it.
    quantised: tuple[str, ...] = ()

    def runs(self, precision: str) -> bool:
        return precision in self.precisions


# The reference: the torch model as loaded, every precision.
TORCH = Runtime(
    "torch",
    precisions=("fp32", "tf32", "bf16"),
    compiles=True,
    reads_export=False,
    writes_features=True,
)
# ONNX Runtime on the torch.onnx.export file: the exported graph is fp32 (tf32 differs only on
# CUDA), and it holds the logits only; int8 runs the export statically quantised (QDQ).
ONNXRUNTIME = Runtime(
    "onnxruntime",
    precisions=("fp32", "tf32", "int8"),
    compiles=False,
    reads_export=True,
    writes_features=False,
    quantised=("int8",),
)

RUNTIMES: dict[str, Runtime] = {runtime.name: runtime for runtime in (TORCH, ONNXRUNTIME)}
# Agreement is measured against it, and variant names leave it out.
REFERENCE_RUNTIME = TORCH.name
