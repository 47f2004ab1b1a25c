"""The Hugging Face hub cache, where open_clip and timm keep their pretrained weights.

Both look a file up the same way and give the same advice when it is missing and cannot be
downloaded, so a CLIP model and a timm model fail offline in the same words.
"""

import os
from collections.abc import Sequence

import huggingface_hub


def cache_folder(repo_id: str) -> str:
    """Where the hub cache keeps a model repository (its documented layout: models--org--name)."""
    return f"models--{repo_id.replace('/', '--')}"


def cached_file(repo_id: str, filenames: Sequence[str]) -> str | None:
    """The first of ``filenames`` the hub cache holds for ``repo_id``, without the network."""
    for filename in filenames:
        path = huggingface_hub.try_to_load_from_cache(repo_id, filename)
        if isinstance(path, str):
            return path
    return None


def offline_advice(reader: str, repo_id: str, filenames: Sequence[str], command: str) -> str:
    """Where ``reader`` (open_clip, timm) reads the weights from, and how to place them by hand;
    ``command`` is the Python that downloads them on a machine with network access."""
    cache = huggingface_hub.constants.HF_HUB_CACHE
    folder = cache_folder(repo_id)
    return (
        f"{reader} reads {' or '.join(filenames)} from the Hugging Face repository {repo_id}, "
        f"kept in {os.path.join(cache, folder)} (the hub cache: HF_HUB_CACHE, else HF_HOME/hub, "
        "HF_HOME defaulting to ~/.cache/huggingface). Without network access: on a machine with "
        f'it, run python -c "{command}", copy the folder {folder} from its hub cache into '
        f"{cache} here (or set HF_HOME to a copy of that machine's cache folder), then rerun; set "
        "HF_HUB_OFFLINE=1 where there is no network, so that nothing waits for it. To run the "
        "model untrained instead, set its weights to none."
    )
