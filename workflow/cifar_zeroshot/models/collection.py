"""A collection of models named by one `models:` entry, expanded into ordinary model names.

`torchvision:all` is every torchvision classifier with ImageNet-1k weights (its DEFAULT ones);
`torchvision:<pattern>` those whose name matches. `timm:<pattern>` (a name holding '*', '?' or
'[') is every pretrained timm name that matches, as ``timm.list_models(pattern,
pretrained=True)`` lists them (read from models.timm.catalog, without importing timm), whose
head the class mapping can score (ImageNet-1k's, with a preprocessing this workflow reproduces):
a collection is a field of ImageNet classifiers to compare, so other heads are left out and
said so. As a mapping, `{collection: ..., max_params_m: 30, exclude: ["*vit*"], limit: 50,
confirm: 1027, weights: none}` filters it: parameters as the publisher gives them
(models.published_accuracy), names matching an `exclude` pattern, the first `limit` names in
the family's list order. A collection of more than CONFIRM_ABOVE models runs only with `limit`
or with `confirm:` set to its exact count; one that matches nothing is refused with close names.
"""

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.family import CollectionSource, ModelFamily
from cifar_zeroshot.models.family_registry import family_of_collection
from cifar_zeroshot.models.hub_names import close_matches
from cifar_zeroshot.models.published_accuracy import published_params_m

ALL = "all"
CONFIRM_ABOVE = 300  # more models than this need `confirm: <count>` or `limit`
_WILDCARDS = re.compile(r"[*?\[]")
# The dry run's line names this many of a collection's models; run_info lists every one.
SUMMARY_NAMES = 10
RUN_INFO_LISTING = "results/run_info.yaml (model_collections)"
_KEYS = ("collection", "max_params_m", "exclude", "limit", "confirm", "weights")


@dataclass(frozen=True)
class CollectionRequest:
    """One `models:` entry that names a collection, with its filters."""

    text: str  # 'torchvision:all', 'timm:resnet*.a1_in1k'
    max_params_m: float | None = None
    exclude: tuple[str, ...] = ()
    limit: int | None = None
    confirm: int | None = None
    weights: str | None = None  # None: the config's `weights`

    @property
    def family(self) -> ModelFamily:
        family = family_of_collection(self.text)
        assert family is not None  # collection_request made sure
        return family

    @property
    def source(self) -> CollectionSource:
        source = self.family.collection
        assert source is not None  # family_of_collection finds families with one
        return source

    @property
    def pattern(self) -> str:
        """The name pattern without its prefix, lowercase ('all' is '*')."""
        pattern = self.text.strip()[len(self.source.prefix) :].strip().lower()
        return "*" if pattern == ALL else pattern


@dataclass(frozen=True)
class Expansion:
    """A collection as ordinary config names, and what was left out of it and why."""

    request: CollectionRequest
    models: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """The dry run's line: the collection, its count, what it left out and its first
        SUMMARY_NAMES models (run_info lists them all)."""
        left_out = f" ({'; '.join(self.notes)})" if self.notes else ""
        shown = ", ".join(self.models[:SUMMARY_NAMES])
        more = len(self.models) - SUMMARY_NAMES
        if more > 0:
            shown += f" and {more} more; the full list is in {RUN_INFO_LISTING}"
        return f"collection {self.request.text} -> {len(self.models)} models{left_out}: {shown}"


def collection_request(entry: str | Mapping[str, Any]) -> CollectionRequest | None:
    """The collection a `models:` entry names, None for a single model's entry."""
    if isinstance(entry, Mapping):
        if "collection" not in entry:
            return None
        unknown = sorted(set(entry) - set(_KEYS))
        if unknown:
            raise UserError(
                f"collection entry {dict(entry)!r} has the key(s) {', '.join(unknown)}; a "
                f"collection takes only {', '.join(_KEYS)}."
            )
        text = entry["collection"]
        request = CollectionRequest(
            text,
            entry.get("max_params_m"),
            tuple(entry.get("exclude") or ()),
            entry.get("limit"),
            entry.get("confirm"),
            entry.get("weights"),
        )
    elif family_of_collection(entry) is not None:
        request = CollectionRequest(entry.strip())
    else:
        return None
    if family_of_collection(request.text) is None or not request.pattern:
        raise UserError(
            f"collection {request.text!r} names no collection: write torchvision:all, "
            "torchvision:<pattern> or timm:<pattern>, for example timm:resnet*.a1_in1k."
        )
    return request


def _no_match(request: CollectionRequest, names: list[str]) -> UserError:
    """A pattern that matches nothing, with the names or tags closest to its literal part."""
    architecture, _, tag = request.pattern.partition(".")
    architectures = sorted({name.partition(".")[0] for name in names})
    hint = ""
    matching = [a for a in architectures if fnmatch.fnmatchcase(a, architecture)]
    if tag and matching:
        tags = sorted({n.partition(".")[2] for n in names if n.partition(".")[0] in matching})
        close = close_matches(_WILDCARDS.sub("", tag), tags) or tags[:10]
        hint = f" Its models' tags include: {', '.join(close)}."
    else:
        close = close_matches(_WILDCARDS.sub("", architecture), architectures)
        hint = f" Close names: {', '.join(close)}." if close else ""
    return UserError(
        f"collection {request.text} matches no model.{hint} Fix: write another pattern "
        f"(fnmatch: '*' any text, '?' one character). See every name with: "
        f"{request.source.listing_hint}"
    )


def _params_filter(
    request: CollectionRequest, names: list[str], left_out: dict[str, str]
) -> list[str]:
    if request.max_params_m is None:
        return names
    unknown = request.source.params_unknown()
    if unknown is not None:
        raise UserError(
            f"collection {request.text}: max_params_m filters by the published parameter "
            f"counts, and {unknown}, or drop max_params_m."
        )
    kept = []
    for name in names:
        params = published_params_m(f"{request.family.config_prefix}{name}")
        if params is None:
            left_out[name] = "no published parameter count"
        elif params > request.max_params_m:
            left_out[name] = f"over {request.max_params_m:g} M parameters"
        else:
            kept.append(name)
    return kept


def _count_refusal(request: CollectionRequest, count: int) -> UserError | None:
    """Too many models without confirm or limit, or a confirm that is not the count."""
    if request.limit is not None:
        return None
    if request.confirm is not None and request.confirm != count:
        return UserError(
            f"collection {request.text} expands to {count:,} models, and confirm is "
            f"{request.confirm}. Fix: set confirm: {count} (or cap it with limit: N)."
        )
    if count > CONFIRM_ABOVE and request.confirm is None:
        return UserError(
            f"collection {request.text} expands to {count:,} models, more than {CONFIRM_ABOVE}. "
            f"Fix: confirm the count with {{collection: '{request.text}', confirm: {count}}}, "
            "or cap it with limit: N, or narrow it (a longer pattern, exclude, max_params_m)."
        )
    return None


def _notes(left_out: dict[str, str], matched: set[str]) -> tuple[str, ...]:
    """How many matched names each reason left out."""
    reasons: dict[str, int] = {}
    for name, reason in left_out.items():
        if name in matched:
            reasons[reason] = reasons.get(reason, 0) + 1
    return tuple(f"{count} left out: {reason}" for reason, count in reasons.items())


def expand_collection(request: CollectionRequest) -> Expansion:
    """The collection's models as config names, filtered; refused with the fix where it
    matches nothing, nothing is left after its filters, or it is too large unconfirmed."""
    names, left_out = request.source.names()
    left_out = dict(left_out)
    matched = [name for name in names if fnmatch.fnmatchcase(name, request.pattern)]
    if not matched:
        raise _no_match(request, names)
    kept = [name for name in matched if name not in left_out]
    for pattern in request.exclude:
        bare = pattern.lower().removeprefix(request.source.prefix)
        for name in kept:
            if fnmatch.fnmatchcase(name, bare):
                left_out[name] = "excluded"
        kept = [name for name in kept if left_out.get(name) != "excluded"]
    kept = _params_filter(request, kept, left_out)
    notes = _notes(left_out, set(matched))
    if not kept:
        raise UserError(
            f"collection {request.text} matches {len(matched)} models, and none is left "
            f"({'; '.join(notes)}). Fix: widen the pattern or loosen its filters."
        )
    refusal = _count_refusal(request, len(kept))
    if refusal is not None:
        raise refusal
    if request.limit is not None and len(kept) > request.limit:
        notes += (f"{len(kept) - request.limit} past limit {request.limit}",)
        kept = kept[: request.limit]
    prefix = request.family.config_prefix
    return Expansion(request, tuple(f"{prefix}{name}" for name in kept), notes)
