"""timm's published results table, downloaded at planning when the configuration needs it.

One mechanism serves both of the table's readers, and it runs at planning (Snakemake's main
process, before plan_workflow), not in a rule:
- `max_params_m` on a timm collection decides which models are planned, so the table must be at
  hand before any rule runs;
- the published top-1 of each model reaches the metrics rule as a planned parameter
  (WorkflowPlan.published_top1), so a rule that downloaded the table would deliver it after the
  value was fixed, and a download rule that failed offline would stop the run, where a missing
  table should only leave that column empty.
So planning downloads the pinned table (models.timm.published.TIMM_RESULTS) into its cache under
data/, through the same verified download as CIFAR-10's (data.download: a temporary file,
checked against the SHA-256, renamed), once: a cached file with the pinned SHA-256 (downloaded,
or placed there by hand) is used without network. It does so only when the configuration names
a timm model with trained weights or a timm collection filtered by `max_params_m`, never for a
user's own copy (``$CIFAR_ZEROSHOT_TIMM_RESULTS``), and a dry run downloads too, as it plans
the same models. A failed download is not an error here: the caller prints the returned
warning once, timm's published top-1 is then None, and `max_params_m` on a timm collection is
refused by planning with the fix (models.collection).
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.family_registry import TIMM, family_of_collection, family_of_config_name
from cifar_zeroshot.models.timm.published import (
    TIMM_RESULTS,
    PinnedTable,
    own_copy,
    table_unavailable,
)

# Short: a machine without network usually fails at once, one that drops packets waits this.
_TIMEOUT_S = 15.0
_CONSEQUENCE = (
    "timm's published ImageNet-1k top-1 of the planned timm models is unknown (empty in the "
    "leaderboard), and max_params_m cannot filter a timm collection"
)


@dataclass(frozen=True)
class FetchMessage:
    """What the caller prints once: a download done (NOTE) or the table missing (WARNING)."""

    level: Literal["NOTE", "WARNING"]
    text: str


def _trained(weights: object) -> bool:
    return str(weights).strip().lower() != NONE_WEIGHTS


def timm_results_needed(models: Iterable[Any], default_weights: str) -> bool:
    """Whether `models:` names a timm model with trained weights (its published top-1) or a
    timm collection filtered by `max_params_m` (its parameter counts)."""
    for entry in models:
        mapping = entry if isinstance(entry, Mapping) else {"name": entry}
        weights = mapping.get("weights") or default_weights
        if "collection" in mapping:
            if family_of_collection(mapping["collection"]) is TIMM and (
                mapping.get("max_params_m") is not None or _trained(weights)
            ):
                return True
            continue
        name = mapping.get("name")
        if family_of_collection(name) is TIMM:  # a collection written as a string
            if _trained(default_weights):
                return True
        elif (
            isinstance(name, str)
            and family_of_config_name(name) is TIMM
            and "weights_file" not in mapping
            and _trained(weights)
        ):
            return True
    return False


def fetch_timm_results(
    config: Mapping[str, Any], pinned: PinnedTable | None = None, *, retries: int = 1
) -> FetchMessage | None:
    """Download timm's pinned table into its cache where the configuration needs it and it is
    not at hand. Returns a NOTE after a download, a WARNING (why the table is missing, what that
    leaves unknown, the fix) where it is needed and stays missing, else None."""
    if not timm_results_needed(config["models"], config["weights"]):
        return None
    pinned = pinned or TIMM_RESULTS
    unavailable = table_unavailable(pinned)
    if unavailable is None:
        return None
    if own_copy() is not None:  # the user's file: never downloaded over
        return FetchMessage("WARNING", f"{_CONSEQUENCE}: {unavailable}.")
    # Imported here: pooch and requests are needed only when a download happens.
    import pooch

    from cifar_zeroshot.data.download import download_file

    # pooch's own lines (downloading, retrying) would repeat what the one message returned says.
    pooch_log = pooch.get_logger()
    level = pooch_log.level
    pooch_log.setLevel(logging.WARNING)
    try:
        download_file(
            pinned.url,
            pinned.cache,
            f"sha256:{pinned.sha256}",
            pinned.size,
            pinned.by_hand_hint(),
            timeout_s=_TIMEOUT_S,
            retries=retries,
        )
    except UserError as error:
        return FetchMessage("WARNING", f"{_CONSEQUENCE}: {error}")
    finally:
        pooch_log.setLevel(level)
    return FetchMessage(
        "NOTE", f"downloaded timm's published results table from {pinned.url} into {pinned.cache}"
    )
