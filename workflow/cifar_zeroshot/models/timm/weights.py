"""timm models, built untrained or with their tag's weights from the Hugging Face cache
(downloaded there once), and the data config their preprocessing comes from.

timm keeps a tag's weights in the hub repository ``timm/<architecture>.<tag>`` as
model.safetensors (older ones as pytorch_model.bin). The cache is read first, without the hub:
with the network unreachable a hub request retries for many seconds before it gives up. The
file is handed to timm as the pretrained file, so timm applies its own checkpoint filter (e.g.
a ViT's position embeddings) exactly as when it downloads; it reads a .safetensors file, which
holds only tensors, and a .bin file with torch's weights-only loader.
"""

import logging
import pickle
from typing import Any

import huggingface_hub
import huggingface_hub.constants
import timm
import timm.data
import torch
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
from safetensors import SafetensorError

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.hub_cache import cache_folder, cached_file, offline_advice
from cifar_zeroshot.models.load_failures import load_failure
from cifar_zeroshot.models.timm.catalog import CATALOG, timm_catalog
from cifar_zeroshot.models.timm.names import TimmSpec, check_timm_spec
from cifar_zeroshot.models.torchvision.classifiers import UNTRAINED_SEED

log = logging.getLogger(__name__)

# What timm asks the hub for when the tag names no file (timm/models/_hub.py), safe file first.
_HUB_FILES = ("model.safetensors", "pytorch_model.bin")


def hub_location(spec: TimmSpec) -> tuple[str, list[str]]:
    """The Hugging Face repository timm reads the tag's weights from, and its file names."""
    cfg = timm.models.get_pretrained_cfg(spec.name)
    repo_id = cfg.hf_hub_id or ""
    if not repo_id or repo_id.endswith("/"):  # 'timm/' means timm/<architecture>.<tag>
        repo_id = f"{repo_id or 'timm/'}{spec.name}"
    return repo_id, [cfg.hf_hub_filename] if cfg.hf_hub_filename else list(_HUB_FILES)


def _missing_weights_message(spec: TimmSpec, error: Exception) -> str:
    repo_id, filenames = hub_location(spec)
    command = f"import timm; timm.create_model('{spec.name}', pretrained=True)"
    return (
        f"The weights of timm model {spec.config_name} (model {spec.architecture}, tag "
        f"{spec.tag}) are not in the Hugging Face cache, and downloading them failed "
        f"({load_failure(error)}). {offline_advice('timm', repo_id, filenames, command)}"
    )


def cached_weights(spec: TimmSpec) -> str | None:
    """The tag's weights file if the hub cache has it, found without asking the network."""
    return cached_file(*hub_location(spec))


def _weights_file(spec: TimmSpec) -> str:
    """The tag's weights file in the Hugging Face cache, downloaded there if it is missing."""
    cached = cached_weights(spec)
    if cached is not None:
        return cached
    repo_id, filenames = hub_location(spec)
    error: Exception = FileNotFoundError(f"no file of {repo_id} in the cache")
    for filename in filenames:
        try:
            return huggingface_hub.hf_hub_download(repo_id, filename)
        except (OSError, HfHubHTTPError, LocalEntryNotFoundError, ValueError) as failure:
            error = failure  # the first file may be missing where the second exists
    raise UserError(_missing_weights_message(spec, error)) from error


def _create_pretrained(spec: TimmSpec, path: str) -> torch.nn.Module:
    try:
        return timm.create_model(spec.name, pretrained=True, pretrained_cfg_overlay={"file": path})
    except (
        OSError,
        RuntimeError,
        ValueError,
        KeyError,
        SafetensorError,
        pickle.UnpicklingError,
        EOFError,
    ) as error:
        folder = cache_folder(hub_location(spec)[0])
        cache = huggingface_hub.constants.HF_HUB_CACHE
        raise UserError(
            f"Could not load the weights file {path} of timm model {spec.config_name} "
            f"({load_failure(error)}). It is damaged or not the published file: delete the "
            f"folder {folder} from the Hugging Face cache ({cache}) to download it again, then "
            "rerun."
        ) from error


def build_untrained(spec: TimmSpec) -> torch.nn.Module:
    """The architecture with the tag's settings (head, input size), from a fixed seed; the
    caller's random stream is left alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(UNTRAINED_SEED)
        return timm.create_model(spec.name, pretrained=False)


def load_timm_model(spec: TimmSpec, untrained: bool, *, logits: bool = True) -> torch.nn.Module:
    """The timm model in eval mode: untrained from a fixed seed, or with the tag's weights.

    Pretrained weights come from the Hugging Face cache (downloaded once); without network access
    and without the file, a UserError says where to put it. ``logits``: the job reads its head's
    ImageNet logits, so a head that is not ImageNet-1k's is refused (features serve any head).
    """
    check_timm_spec(spec, "none" if untrained else "DEFAULT", logits=logits)
    model = build_untrained(spec) if untrained else _create_pretrained(spec, _weights_file(spec))
    check_catalog_head(spec, int(model.num_classes))
    log.info("timm model %s loaded (%s)", spec.name, "untrained" if untrained else "pretrained")
    return model.eval()


def check_catalog_head(spec: TimmSpec, classes: int) -> None:
    """The head timm built against the one the catalog cache told planning about: a cache
    edited or damaged by hand would otherwise have the job read a head of another size."""
    catalog = timm_catalog()
    listed = catalog.classes.get(spec.name)
    if listed is None or listed == classes:
        return
    path = CATALOG.path()
    raise UserError(
        f"timm builds {spec.name} with a head of {classes:,} classes, but the catalog cache "
        f"{path} says {listed:,}: the cache was edited or damaged, so the plan it gave cannot "
        f"be trusted. Fix: delete {path} (the next run reads timm's own list again) and rerun."
    )


def data_config(model: torch.nn.Module) -> dict[str, Any]:
    """timm's data config of the model (input size, interpolation, crop_pct, crop_mode, mean,
    std), as timm resolves it for evaluation."""
    return dict(timm.data.resolve_model_data_config(model))
