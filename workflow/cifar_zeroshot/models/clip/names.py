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

import importlib.util

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.clip.catalog import ClipCatalog, clip_catalog
from cifar_zeroshot.models.hub_names import HubSpec, did_you_mean, strip_prefix

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

CLIP_PREFIX = "clip:"
_SYNTAX = "write clip:<architecture>/<pretrained tag>, for example clip:ViT-B-32/openai"
_LIST_HINT = (
    "See every architecture and tag with: python -c 'import open_clip; "
    "print(open_clip.list_pretrained())'"
)


class ClipSpec(HubSpec):
    """One open_clip architecture with one of its pretrained tags, e.g. ViT-B-32 + openai."""

    KIND = "CLIP"
    CONFIG_PREFIX = CLIP_PREFIX
    CONFIG_SEPARATOR = "/"
    SLUG_PREFIX = "clip-"
    ARCHITECTURE_PATTERN = r"[A-Za-z0-9_-]+"
    TAG_PATTERN = r"[A-Za-z0-9_]+"
    ARCHITECTURE_WORD = "architecture"
    ALLOWED = (
        "letters, digits, '_' and '-' (it names a results folder)",
        "letters, digits and '_' (it names a results folder)",
    )
    SYNTAX = _SYNTAX
    SLUG_EXAMPLE = "clip-ViT-B-32.openai"

    def other_tags_hint(self) -> str:
        return f", <tag> one of {', '.join(_names(self).tags(self.architecture))}"


# A Snakemake wildcard constraint: matches exactly the slugs of ClipSpec.
CLIP_SLUG_PATTERN = ClipSpec.slug_pattern()


def parse_clip_name(text: str) -> ClipSpec | None:
    """The ClipSpec of a config name 'clip:<architecture>/<tag>'; None for any other model name."""
    rest = strip_prefix(text, CLIP_PREFIX)
    if rest is None:
        return None
    architecture, separator, tag = rest.partition("/")
    if not separator or not architecture or not tag:
        raise UserError(
            f"CLIP model {text!r} names no architecture and pretrained tag; {_SYNTAX}. {_LIST_HINT}"
        )
    return ClipSpec(architecture, tag)


def spec_from_slug(slug: str) -> ClipSpec:
    """The ClipSpec whose slug is ``slug`` (a results folder name such as 'clip-RN50.openai')."""
    spec = ClipSpec.from_slug(slug)
    assert isinstance(spec, ClipSpec)
    return spec


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
            f"with weights.{did_you_mean(spec.architecture, with_weights)} {_LIST_HINT}"
        )
    raise UserError(
        f"CLIP model {spec.config_name}: unknown architecture {spec.architecture!r}."
        f"{did_you_mean(spec.architecture, with_weights)} {_LIST_HINT}"
    )


def _check_tag(spec: ClipSpec) -> None:
    tags = _names(spec).tags(spec.architecture)
    if spec.tag in tags:
        return
    # open_clip itself would accept 'OpenAI' or 'laion2b-s34b-b79k'; one spelling keeps one slug.
    spelled = spec.tag.lower().replace("-", "_")
    hint = f" Write it as {spelled!r}." if spelled in tags else did_you_mean(spec.tag, tags)
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
    return spec.untrained(weights)


def clip_weights_label(spec: ClipSpec, weights: str) -> str:
    """The weights as run facts record them: 'none', or '<architecture>/<tag>'."""
    return NONE_WEIGHTS if untrained_weights(spec, weights) else f"{spec.architecture}/{spec.tag}"


def check_clip_spec(spec: ClipSpec, weights: str) -> None:
    """Refuse, with the fix, a name open_clip has no weights for, or weights that do not fit it."""
    _check_architecture(spec)
    _check_tag(spec)
    _check_tokenizer(spec)
    untrained_weights(spec, weights)
