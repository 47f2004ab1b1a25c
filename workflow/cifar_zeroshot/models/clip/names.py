"""CLIP model names: `clip:<architecture>/<pretrained tag>` in the config, checked with open_clip.

A name is checked before anything runs: the architecture and the tag must be among the weights
open_clip publishes (``open_clip.list_pretrained()``, read through models.clip.catalog, which
spares planning the import of open_clip), so that a typo is reported with close matches instead
of failing inside an inference job. The name's slug, `clip-<architecture>.<tag>`,
is the model's folder under results/.

Slug scheme: open_clip's architecture names use letters, digits, '_' and '-', never '.'; its tags
are lowercase with '_' (it maps '-' to '_' when it looks one up), never '-' or '.'. So '.' splits a
slug unambiguously, a slug ends at its tag (a '-' after it cannot belong to it), and a slug never
equals a torchvision model name (plain identifiers, without '-').
tests/models/clip/test_clip_names.py checks these facts against the installed open_clip.

Weights rule: a CLIP model's weights are named by its tag. The project's `weights` setting is
'none' (an untrained model; the tag then only names it and picks its preprocessing), 'DEFAULT' or
the tag itself (the tag's weights); any other value is refused.
"""

import difflib
import importlib.util
import re
from dataclasses import dataclass

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.clip.catalog import ClipCatalog, clip_catalog
from cifar_zeroshot.models.clip.slugs import (
    ARCHITECTURE_PATTERN,
    CLIP_PREFIX,
    CLIP_SLUG_PATTERN,
    TAG_PATTERN,
)

__all__ = [
    "CLIP_PREFIX",
    "CLIP_SLUG_PATTERN",
    "ClipSpec",
    "check_clip_spec",
    "clip_weights_label",
    "parse_clip_name",
    "spec_from_slug",
    "untrained_weights",
]

_ARCHITECTURE = ARCHITECTURE_PATTERN
_TAG = TAG_PATTERN
_SLUG = re.compile(rf"clip-(?P<architecture>{_ARCHITECTURE})\.(?P<tag>{_TAG})")
_SYNTAX = "write clip:<architecture>/<pretrained tag>, for example clip:ViT-B-32/openai"
_LIST_HINT = (
    "See every architecture and tag with: python -c 'import open_clip; "
    "print(open_clip.list_pretrained())'"
)
_DEFAULT_WEIGHTS = "DEFAULT"


@dataclass(frozen=True)
class ClipSpec:
    """One open_clip architecture with one of its pretrained tags, e.g. ViT-B-32 + openai."""

    architecture: str
    tag: str

    def __post_init__(self) -> None:
        # Both parts become a results folder name: only safe characters may get there.
        for part, value, pattern, allowed in (
            ("architecture", self.architecture, _ARCHITECTURE, "letters, digits, '_' and '-'"),
            ("tag", self.tag, _TAG, "letters, digits and '_'"),
        ):
            if not isinstance(value, str) or not re.fullmatch(pattern, value):
                raise UserError(
                    f"CLIP model {CLIP_PREFIX}{self.architecture}/{self.tag}: the {part} "
                    f"{value!r} may hold only {allowed} (it names a results folder); {_SYNTAX}."
                )

    @property
    def config_name(self) -> str:
        """How the config names it: 'clip:ViT-B-32/openai'."""
        return f"{CLIP_PREFIX}{self.architecture}/{self.tag}"

    @property
    def slug(self) -> str:
        """Its results folder name: 'clip-ViT-B-32.openai'."""
        return f"clip-{self.architecture}.{self.tag}"


def parse_clip_name(text: str) -> ClipSpec | None:
    """The ClipSpec of a config name 'clip:<architecture>/<tag>'; None for any other model name."""
    if not isinstance(text, str) or text[: len(CLIP_PREFIX)].lower() != CLIP_PREFIX:
        return None
    architecture, separator, tag = text[len(CLIP_PREFIX) :].strip().partition("/")
    if not separator or not architecture or not tag:
        raise UserError(
            f"CLIP model {text!r} names no architecture and pretrained tag; {_SYNTAX}. {_LIST_HINT}"
        )
    return ClipSpec(architecture, tag)


def spec_from_slug(slug: str) -> ClipSpec:
    """The ClipSpec whose slug is ``slug`` (a results folder name such as 'clip-RN50.openai')."""
    match = _SLUG.fullmatch(slug) if isinstance(slug, str) else None
    if match is None:
        raise UserError(
            f"{slug!r} is not the folder name of a CLIP model: expected clip-<architecture>.<tag>, "
            "for example clip-ViT-B-32.openai. Rename the folder or rerun the workflow."
        )
    return ClipSpec(match["architecture"], match["tag"])


def _close_matches(word: str, choices: list[str]) -> list[str]:
    """difflib's close matches, ignoring case (users write 'vit-b-32' for 'ViT-B-32')."""
    by_lower = {choice.lower(): choice for choice in choices}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=5, cutoff=0.6)
    return [by_lower[match] for match in found]


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = _close_matches(word, choices)
    return f" Did you mean {', '.join(close)}?" if close else ""


def _names(spec: ClipSpec) -> ClipCatalog:
    """open_clip's names from the cache; read afresh when the cache lacks ``spec``, since only
    open_clip itself can say it has no such architecture or tag."""
    known = clip_catalog()
    return known if known.has(spec.architecture, spec.tag) else clip_catalog(fresh=True)


def _check_architecture(spec: ClipSpec) -> None:
    known = _names(spec)
    with_weights = sorted({architecture for architecture, _ in known.pretrained})
    if spec.architecture in with_weights:
        return
    if spec.architecture in known.architectures:
        raise UserError(
            f"CLIP model {spec.config_name}: open_clip can build {spec.architecture} but "
            "publishes no pretrained weights for it, so it has no tag. Choose an architecture "
            f"with weights.{_did_you_mean(spec.architecture, with_weights)} {_LIST_HINT}"
        )
    raise UserError(
        f"CLIP model {spec.config_name}: unknown architecture {spec.architecture!r}."
        f"{_did_you_mean(spec.architecture, with_weights)} {_LIST_HINT}"
    )


def _check_tag(spec: ClipSpec) -> None:
    tags = _names(spec).tags(spec.architecture)
    if spec.tag in tags:
        return
    # open_clip itself would accept 'OpenAI' or 'laion2b-s34b-b79k'; one spelling keeps one slug.
    spelled = spec.tag.lower().replace("-", "_")
    hint = f" Write it as {spelled!r}." if spelled in tags else _did_you_mean(spec.tag, tags)
    raise UserError(
        f"CLIP model {spec.config_name}: {spec.architecture} has no pretrained tag "
        f"{spec.tag!r}.{hint} Its tags: {', '.join(tags)}."
    )


def _has_transformers() -> bool:
    return importlib.util.find_spec("transformers") is not None


def _check_tokenizer(spec: ClipSpec) -> None:
    """Some architectures tokenise (or encode text) with Hugging Face transformers."""
    hf_name = _names(spec).hf_text.get(spec.architecture)
    if hf_name and not _has_transformers():
        raise UserError(
            f"CLIP model {spec.config_name} encodes its prompts with the Hugging Face model "
            f"{hf_name!r}, which needs the transformers package (not installed). Install it "
            "(pip install transformers; offline, its files must be in the Hugging Face cache), "
            "or choose an architecture with open_clip's own tokenizer, such as ViT-B-32 or RN50."
        )


def untrained_weights(spec: ClipSpec, weights: str) -> bool:
    """Whether the weights setting means an untrained model: 'none' yes; 'DEFAULT' or the tag no."""
    text = str(weights).strip()
    if text.lower() == NONE_WEIGHTS:
        return True
    if text in (_DEFAULT_WEIGHTS, spec.tag):
        return False
    tags = _names(spec).tags(spec.architecture)
    raise UserError(
        f"Weights {weights!r} do not fit CLIP model {spec.config_name}: a CLIP model's weights "
        f"are named by its tag. Use {_DEFAULT_WEIGHTS} (or {spec.tag}) for the {spec.tag} "
        f"weights or {NONE_WEIGHTS} for an untrained model; for other weights, name another "
        f"tag in the model: {CLIP_PREFIX}{spec.architecture}/<tag>, <tag> one of "
        f"{', '.join(tags)}."
    )


def clip_weights_label(spec: ClipSpec, weights: str) -> str:
    """The weights as run facts record them: 'none', or '<architecture>/<tag>'."""
    return NONE_WEIGHTS if untrained_weights(spec, weights) else f"{spec.architecture}/{spec.tag}"


def check_clip_spec(spec: ClipSpec, weights: str) -> None:
    """Refuse, with the fix, a name open_clip has no weights for, or weights that do not fit it."""
    _check_architecture(spec)
    _check_tag(spec)
    _check_tokenizer(spec)
    untrained_weights(spec, weights)
