"""Where an inference job's model comes from: a torchvision or timm classifier, or a CLIP image
tower.

Both end as a ModelLoader (model name, torchvision weights) -> torch module, so the rest of the
job (device, batch loop, timing, files) is the same for every model. What differs is settled
here: the weights' label in the run facts, the preprocessing (a torchvision model's weights
state it before loading; a CLIP tower states it once built, as ``preprocess_spec``), and
whether the classifier's penultimate features come out beside its logits.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torchvision
from torchvision.models import WeightsEnum

from cifar_zeroshot.inference.request import InferenceRequest, JobKind
from cifar_zeroshot.models.family import ModelFamily
from cifar_zeroshot.models.family_registry import CLIP, TIMM, TORCHVISION, family_of_slug
from cifar_zeroshot.models.penultimate import WithFeatures
from cifar_zeroshot.models.preprocess import PreprocessSpec, spec_for
from cifar_zeroshot.models.torchvision.classifiers import resolve_weights, weights_label
from cifar_zeroshot.models.weights_file import WeightsFile, architecture_slug, load_weights_file
from cifar_zeroshot.runtimes.forward_loading import ModelLoader


@dataclass(frozen=True)
class ModelSource:
    weights: WeightsEnum | None  # torchvision's weights; None when untrained or for CLIP
    weights_label: str  # as the run facts record it
    spec: PreprocessSpec | None  # None: the loaded model states it (its preprocess_spec)
    loader: ModelLoader
    # Builds the model without weights, for the CPU host-memory estimate; None: no estimate.
    meta_build: Callable[[], torch.nn.Module] | None
    # Builds the model untrained as its parameters and FLOPs are counted (models.complexity):
    # the classifier alone, or a CLIP model's image tower.
    plain_build: Callable[[], torch.nn.Module]


def _with_features(model_loader: ModelLoader, *, logits: bool) -> ModelLoader:
    """``model_loader`` whose models also return their penultimate features (or only those)."""

    def load(name: str, weights: WeightsEnum | None) -> torch.nn.Module:
        return WithFeatures(model_loader(name, weights), name, logits=logits)

    return load


def _clip_source(
    model: str,
    weights: str,
    preprocess: str,
    kind: JobKind,
    model_loader: ModelLoader,
    weights_file: WeightsFile | None,
) -> ModelSource:
    """A CLIP model's image tower, preprocessed as its weights expect (its only variant)."""
    if weights_file is not None:  # refused at planning (config.weights_file_plan)
        raise ValueError(f"CLIP model {model} takes no weights file")
    from cifar_zeroshot.models.clip.names import (
        clip_weights_label,
        spec_from_slug,
        untrained_weights,
    )
    from cifar_zeroshot.models.clip.tower import ImageTower  # open_clip: when used
    from cifar_zeroshot.models.clip.weights import load_clip_model

    clip = spec_from_slug(model)
    untrained = untrained_weights(clip, weights)

    def load(name: str, weights: WeightsEnum | None) -> torch.nn.Module:
        return ImageTower(load_clip_model(clip, untrained))

    return ModelSource(
        None,
        clip_weights_label(clip, weights),
        None,
        load,
        None,
        lambda: load_clip_model(clip, untrained=True).visual,
    )


def _timm_source(
    model: str,
    weights: str,
    preprocess: str,
    kind: JobKind,
    model_loader: ModelLoader,
    weights_file: WeightsFile | None,
) -> ModelSource:
    from cifar_zeroshot.models.timm.classifier import TimmClassifier  # timm: when used
    from cifar_zeroshot.models.timm.names import (
        TimmSpec,
        spec_from_slug,
        timm_weights_label,
        untrained_weights,
    )
    from cifar_zeroshot.models.timm.preprocess import preprocess_spec_from_data_config
    from cifar_zeroshot.models.timm.weights import build_untrained, data_config, load_timm_model

    timm_spec = spec_from_slug(architecture_slug(model))
    # A weights file's tensors go into the untrained architecture.
    untrained = weights_file is not None or untrained_weights(timm_spec, weights)
    preprocess_spec = timm_spec
    if weights_file is not None and weights_file.preprocess_from:
        preprocess_spec = TimmSpec(timm_spec.architecture, weights_file.preprocess_from)
    with torch.device("meta"):  # the data config needs the model's settings, not its weights
        config = data_config(build_untrained(preprocess_spec))
    channels, height, width = (int(v) for v in config["input_size"])
    input_size = (channels, height, width)
    if preprocess == "weights":
        spec = preprocess_spec_from_data_config(config, timm_spec.config_name)
    else:
        spec = spec_for(None, preprocess)
    features, logits = "features" in kind.outputs, "logits" in kind.outputs

    def load(name: str, weights: WeightsEnum | None) -> torch.nn.Module:
        model = load_timm_model(timm_spec, untrained, logits=logits)
        if weights_file is not None:
            model = load_weights_file(model, weights_file, f"timm {timm_spec.name}")
        return TimmClassifier(model, input_size, features=features, logits=logits)

    label = timm_weights_label(timm_spec, weights) if weights_file is None else weights
    return ModelSource(
        weights=None,
        weights_label=label,
        spec=spec,
        loader=load,
        meta_build=lambda: build_untrained(timm_spec),
        plain_build=lambda: build_untrained(timm_spec),
    )


def _file_loader(
    model_loader: ModelLoader, architecture: str, weights_file: WeightsFile
) -> ModelLoader:
    """The untrained architecture from ``model_loader``, with the file's tensors."""

    def load(name: str, weights: WeightsEnum | None) -> torch.nn.Module:
        untrained = model_loader(architecture, None)
        return load_weights_file(untrained, weights_file, f"torchvision {architecture}")

    return load


def _torchvision_source(
    model: str,
    weights: str,
    preprocess: str,
    kind: JobKind,
    model_loader: ModelLoader,
    weights_file: WeightsFile | None,
) -> ModelSource:
    architecture = architecture_slug(model)
    if weights_file is None:
        resolved = resolve_weights(model, weights)  # checks the model name too
        label, preprocess_weights = weights_label(resolved), resolved
    else:
        # The architecture untrained, then the file's tensors; preprocessed as its default
        # weights (or those preprocess_from names) are.
        resolved, label = None, weights_file.setting
        preprocess_weights = resolve_weights(
            architecture, weights_file.preprocess_from or "DEFAULT"
        )
        model_loader = _file_loader(model_loader, architecture, weights_file)
    if "features" in kind.outputs:
        model_loader = _with_features(model_loader, logits="logits" in kind.outputs)
    return ModelSource(
        weights=resolved,
        weights_label=label,
        spec=spec_for(preprocess_weights, preprocess),
        loader=model_loader,
        meta_build=lambda: torchvision.models.get_model(architecture, weights=None),
        plain_build=lambda: torchvision.models.get_model(architecture, weights=None),
    )


# How each family's models load: (slug, weights as the config names them, preprocessing, job
# kind, the torchvision loader, the user's weights file) -> ModelSource.
_SOURCES: dict[
    ModelFamily,
    Callable[[str, str, str, JobKind, ModelLoader, WeightsFile | None], ModelSource],
] = {
    TORCHVISION: _torchvision_source,
    TIMM: _timm_source,
    CLIP: _clip_source,
}


def model_source(
    request: InferenceRequest, kind: JobKind, model_loader: ModelLoader
) -> ModelSource:
    """The model of ``request``; ``model_loader`` builds a torchvision model (tests wrap it)."""
    return classifier_source(
        request.model,
        request.weights,
        request.variant.preprocess,
        kind,
        model_loader,
        weights_file=request.weights_file,
    )


def classifier_source(
    model: str,
    weights: str,
    preprocess: str,
    kind: JobKind,
    model_loader: ModelLoader,
    *,
    weights_file: WeightsFile | None = None,
) -> ModelSource:
    """A model (a classifier, or a CLIP image tower) with ``weights`` as the config names them
    (or the user's ``weights_file``), preprocessed as ``preprocess`` says: for an inference job,
    and for the ONNX export of its model."""
    source = _SOURCES[family_of_slug(model)]
    return source(model, weights, preprocess, kind, model_loader, weights_file)
