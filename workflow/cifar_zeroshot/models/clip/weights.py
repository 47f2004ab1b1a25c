"""CLIP models from open_clip, built untrained or with their tag's weights from the Hugging Face
cache (downloaded there once).

Both untrained and pretrained models are built with their tag's settings: QuickGELU where the tag
was trained with it (open_clip only warns when the architecture's own config says otherwise, and
the OpenAI weights need it) and the tag's preprocessing (mean, std, filter, resize mode). So an
untrained run of `clip:ViT-B-32/openai` differs from the pretrained one in its weights only.

Anyone who can write to the Hugging Face cache could put a pickle there that runs code when
unpickled. open_clip (2.29 and later) reads a .safetensors file, which holds only tensors, and a
.bin or .pth file with torch's weights-only loader, which refuses anything else; the tests plant
such a pickle to keep it so.
"""

import logging
import os
from typing import Any

import huggingface_hub
import huggingface_hub.constants
import open_clip
import torch

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.clip.names import ClipSpec, check_clip_spec
from cifar_zeroshot.models.hub_cache import cache_folder, cached_file, offline_advice
from cifar_zeroshot.models.load_failures import WEIGHTS_FILE_ERRORS, load_failure
from cifar_zeroshot.models.torchvision.classifiers import UNTRAINED_SEED

log = logging.getLogger(__name__)

# The preprocessing keys a pretrained tag sets (its image size comes from the architecture).
_TAG_PREPROCESS_KEYS = ("mean", "std", "interpolation", "resize_mode")
# What open_clip asks the hub for when the tag names no file (open_clip/constants.py), and the
# safetensors file it tries first (open_clip/pretrained.py, _get_safe_alternatives).
_HUB_DEFAULT_FILE = "open_clip_pytorch_model.bin"
_HUB_SAFE_DEFAULT_FILE = "open_clip_model.safetensors"


def _build_options(spec: ClipSpec) -> dict[str, Any]:
    tag_cfg = open_clip.get_pretrained_cfg(spec.architecture, spec.tag)
    return {
        "force_quick_gelu": bool(tag_cfg.get("quick_gelu", False)),
        "force_preprocess_cfg": {k: tag_cfg[k] for k in _TAG_PREPROCESS_KEYS if k in tag_cfg},
        # Never fetch a text tower's base weights from the hub: the CLIP weights replace them.
        # (open_clip 3 calls it pretrained_text and still takes this older name.)
        "pretrained_hf": False,
    }


def _hub_location(spec: ClipSpec) -> tuple[str, list[str]]:
    """The Hugging Face repository open_clip reads the tag's weights from, and its file names."""
    repo_id, filename = os.path.split(
        open_clip.get_pretrained_cfg(spec.architecture, spec.tag)["hf_hub"]
    )
    filename = filename or _HUB_DEFAULT_FILE
    if filename == _HUB_DEFAULT_FILE:
        return repo_id, [_HUB_SAFE_DEFAULT_FILE, filename]
    stem, extension = os.path.splitext(filename)
    if extension in (".bin", ".pth"):
        return repo_id, [f"{stem}.safetensors", filename]
    return repo_id, [filename]


def _missing_weights_message(spec: ClipSpec, error: Exception) -> str:
    repo_id, filenames = _hub_location(spec)
    command = (
        f"import open_clip; open_clip.create_model('{spec.architecture}', pretrained='{spec.tag}')"
    )
    return (
        f"The weights of CLIP model {spec.config_name} (architecture {spec.architecture}, tag "
        f"{spec.tag}) are not in the Hugging Face cache, and downloading them failed "
        f"({load_failure(error)}). {offline_advice('open_clip', repo_id, filenames, command)}"
    )


def _cached_weights(spec: ClipSpec) -> str | None:
    """The tag's weights file if the hub cache has it, found without asking the network."""
    return cached_file(*_hub_location(spec))


def _weights_file(spec: ClipSpec) -> str:
    """The tag's weights file in the Hugging Face cache, downloaded there if it is missing.

    The cache is read first, without the hub: with the network unreachable (and HF_HUB_OFFLINE
    unset) a hub request retries for about 25 s per file before it gives up.
    """
    cached = _cached_weights(spec)
    if cached is not None:
        return cached
    cfg = open_clip.get_pretrained_cfg(spec.architecture, spec.tag)
    try:
        # open_clip reports every hub failure (offline, no network, no file) as FileNotFoundError.
        return open_clip.download_pretrained(cfg)
    except (OSError, RuntimeError, ValueError) as error:
        raise UserError(_missing_weights_message(spec, error)) from error


def _create_pretrained(spec: ClipSpec, path: str, options: dict[str, Any]) -> torch.nn.Module:
    try:
        return open_clip.create_model(spec.architecture, pretrained=path, **options)
    except WEIGHTS_FILE_ERRORS as error:
        folder = cache_folder(_hub_location(spec)[0])
        cache = huggingface_hub.constants.HF_HUB_CACHE
        raise UserError(
            f"Could not load the weights file {path} of CLIP model {spec.config_name} "
            f"({load_failure(error)}). It is damaged or not the published file: delete the "
            f"folder {folder} from the Hugging Face cache ({cache}) to download it again, then "
            "rerun."
        ) from error


def load_clip_model(spec: ClipSpec, untrained: bool) -> torch.nn.Module:
    """The open_clip model in eval mode: untrained from a fixed seed, or with the tag's weights.

    Pretrained weights come from the Hugging Face cache (downloaded once); without network access
    and without the file, a UserError says where to put it.
    """
    check_clip_spec(spec, "none" if untrained else "DEFAULT")
    options = _build_options(spec)
    if untrained:
        # The same initialisation every time, so offline runs repeat; the caller's random stream
        # is left alone.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(UNTRAINED_SEED)
            model = open_clip.create_model(spec.architecture, pretrained=None, **options)
    else:
        model = _create_pretrained(spec, _weights_file(spec), options)
    log.info("CLIP model %s loaded (%s)", spec.config_name, "untrained" if untrained else spec.tag)
    return model.eval()
