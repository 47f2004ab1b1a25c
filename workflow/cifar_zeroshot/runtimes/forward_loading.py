"""What runs a variant's forward pass: the torch model, or its export on ONNX Runtime.

Each runtime of core.runtime_table has its loader here (FORWARD_LOADERS, by name). Every
forward pass comes back as a callable from a preprocessed batch to its logits, so the batch loop,
the timing and the output files are the same for every runtime. The loaders share that
signature, not their logic: the torch one builds the model through ``model_loader`` (which reads
the weights, models.torchvision.classifiers) and moves it to the job's device, dtype and memory
format; the ONNX Runtime one opens a session on the checked export, which holds its weights as
protobuf (nothing is unpickled), with the variant's precision and the job's threads, and has no
use for the model loader, the dtype or the memory format.
"""

from collections.abc import Callable
from pathlib import Path

import torch
from torchvision.models import WeightsEnum

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.models.torchvision.classifiers import weights_label
from cifar_zeroshot.runtimes.device_setup import channels_last_applies

Forward = Callable[[torch.Tensor], torch.Tensor]
# (model name, weights) -> the torch model: tests pass one that injects NaN or out-of-memory.
ModelLoader = Callable[[str, WeightsEnum | None], torch.nn.Module]
# (model name, weights, device, dtype, channels_last) -> the forward pass, ready on the device.
ForwardLoader = Callable[[str, WeightsEnum | None, torch.device, torch.dtype, bool], Forward]


# (variant, its checked export or None, threads, model loader, weights label) -> the loader.
RuntimeLoader = Callable[[Variant, Path | None, int, ModelLoader, str | None], ForwardLoader]


def forward_loader(
    variant: Variant,
    exported_model: Path | None,
    threads: int,
    model_loader: ModelLoader,
    *,
    label: str | None = None,
) -> ForwardLoader:
    """How to load ``variant``'s forward pass; a runtime that reads the export needs
    ``exported_model``.

    ``label``: the weights as the export's record names them, where torchvision's weights do not
    (a timm model's: 'timm/<name>').
    """
    if variant.runtime_spec.reads_export and exported_model is None:
        raise UserError(
            f"Variant {variant.name} runs the exported ONNX model, and none was given. Run "
            "it through snakemake, which exports the model first (rule export_onnx)."
        )
    return FORWARD_LOADERS[variant.runtime](variant, exported_model, threads, model_loader, label)


def _torch_loader(
    variant: Variant,
    exported_model: Path | None,
    threads: int,
    model_loader: ModelLoader,
    label: str | None,
) -> ForwardLoader:
    def load_torch(
        name: str,
        weights: WeightsEnum | None,
        device: torch.device,
        dtype: torch.dtype,
        channels_last: bool,
    ) -> Forward:
        model = model_loader(name, weights).eval()
        model = model.to(device=device, dtype=dtype)
        if channels_last and channels_last_applies(model):
            model = model.to(memory_format=torch.channels_last)
        return model

    return load_torch


def _onnxruntime_loader(
    variant: Variant,
    exported_model: Path | None,
    threads: int,
    model_loader: ModelLoader,
    label: str | None,
) -> ForwardLoader:
    assert exported_model is not None  # forward_loader checks it for runtimes that read one

    def load_exported(
        name: str,
        weights: WeightsEnum | None,
        device: torch.device,
        dtype: torch.dtype,
        channels_last: bool,
    ) -> Forward:
        from cifar_zeroshot.runtimes.onnx_forward import (
            onnx_forward,  # onnxruntime: only when used
        )

        what = (name, label or weights_label(weights))
        return onnx_forward(exported_model, what, device, variant.precision, threads)

    return load_exported


# Each runtime of core.runtime_table, by name: how its forward pass is loaded.
FORWARD_LOADERS: dict[str, RuntimeLoader] = {
    "torch": _torch_loader,
    "onnxruntime": _onnxruntime_loader,
}
