"""timm model names: `timm:<architecture>.<tag>` in the config, checked against timm's own list.

A name is checked before anything runs: it must be among the weights timm publishes
(``timm.list_pretrained()``, read through models.timm.catalog, which spares planning the import
of timm), so that a typo is reported with close matches instead of failing inside an inference
job. A name without a tag takes the tag timm itself takes for it. The name's slug,
`timm-<architecture>.<tag>`, is the model's folder under results/. timm's pretrained names are
lowercase letters, digits and '_' around one '.' (tests/models/timm/test_timm_names.py checks
this against the installed timm), so a slug never holds ':' or '/', never equals a torchvision
name (no '-') and never a CLIP slug.

Only a head with ImageNet-1k's 1000 classes in ImageNet-1k's order can be scored by the class
mapping; another head (an in21k or in22k tag, an embedding model) is refused for it, naming a tag
of the same architecture fine-tuned on ImageNet-1k where timm has one. The linear probe reads
features, not logits, so it still scores such a model (its runs write features only).

Weights rule, as for CLIP models: 'none' (untrained, from a fixed seed; the tag then only names
it and picks its preprocessing), 'DEFAULT' or the tag itself (the tag's weights).
"""

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.hub_names import HubSpec, did_you_mean, strip_prefix
from cifar_zeroshot.models.timm.catalog import SUPPORTED_CROP_MODES, TimmCatalog, timm_catalog

TIMM_PREFIX = "timm:"
_PART = r"[a-z0-9_]+"
_SYNTAX = "write timm:<model name>.<pretrained tag>, for example timm:resnet50.a1_in1k"
LIST_COMMAND = "python -c 'import timm; print(timm.list_pretrained())'"
_LIST_HINT = f"See every name with: {LIST_COMMAND}"
_ALLOWED = "lowercase letters, digits and '_' (as timm's names do; it names a results folder)"


class TimmSpec(HubSpec):
    """One timm architecture with one of its pretrained tags, e.g. resnet50 + a1_in1k."""

    KIND = "timm"
    CONFIG_PREFIX = TIMM_PREFIX
    CONFIG_SEPARATOR = "."
    SLUG_PREFIX = "timm-"
    ARCHITECTURE_PATTERN = _PART
    TAG_PATTERN = _PART
    ARCHITECTURE_WORD = "model name"
    ALLOWED = (_ALLOWED, _ALLOWED)
    SYNTAX = _SYNTAX
    SLUG_EXAMPLE = "timm-resnet50.a1_in1k"

    @property
    def name(self) -> str:
        """timm's own name: 'resnet50.a1_in1k'."""
        return f"{self.architecture}.{self.tag}"


# A Snakemake wildcard constraint: matches exactly the slugs of TimmSpec.
TIMM_SLUG_PATTERN = TimmSpec.slug_pattern()


def _known(name: str) -> TimmCatalog:
    """timm's names from the cache; read afresh when the cache lacks ``name``, since only timm
    itself can say it has no such name."""
    known = timm_catalog()
    return known if known.has(name) or name in known.defaults else timm_catalog(fresh=True)


def parse_timm_name(text: str) -> TimmSpec | None:
    """The TimmSpec of a config name 'timm:<architecture>[.<tag>]'; None for any other name.

    A name without a tag takes timm's default tag for the architecture.
    """
    name = strip_prefix(text, TIMM_PREFIX)
    if name is None:
        return None
    if not name:
        raise UserError(f"timm model {text!r} names no model; {_SYNTAX}. {_LIST_HINT}")
    architecture, separator, tag = name.partition(".")
    if separator:
        return TimmSpec(architecture, tag)
    known = _known(architecture)
    if architecture not in known.defaults:
        raise UserError(
            f"timm model {text!r}: timm publishes no pretrained weights for a model called "
            f"{architecture!r}.{did_you_mean(architecture, list(known.defaults))} {_LIST_HINT}"
        )
    return TimmSpec(architecture, known.defaults[architecture])


def spec_from_slug(slug: str) -> TimmSpec:
    """The TimmSpec whose slug (results folder name) is ``slug``: 'timm-resnet50.a1_in1k'."""
    spec = TimmSpec.from_slug(slug)
    assert isinstance(spec, TimmSpec)
    return spec


def _check_name(spec: TimmSpec) -> TimmCatalog:
    known = _known(spec.name)
    if known.has(spec.name):
        return known
    if spec.architecture in known.defaults:
        tags = known.tags(spec.architecture)
        raise UserError(
            f"timm model {spec.config_name}: {spec.architecture} has no pretrained tag "
            f"{spec.tag!r}.{did_you_mean(spec.tag, tags)} Its tags: {', '.join(tags)}."
        )
    raise UserError(
        f"timm model {spec.config_name}: timm publishes no pretrained weights named "
        f"{spec.name!r}.{did_you_mean(spec.name, list(known.classes))} {_LIST_HINT}"
    )


def _fine_tuned_on_1k(spec: TimmSpec, known: TimmCatalog) -> str | None:
    """A tag of the same architecture with an ImageNet-1k head: the same pretraining fine-tuned
    (augreg_in21k -> augreg_in21k_ft_in1k) where there is one, else timm's first."""
    tags = [tag for tag in known.tags(spec.architecture) if f"{spec.architecture}.{tag}" in
            known.imagenet1k]  # fmt: skip
    for preferred in ([t for t in tags if t.startswith(spec.tag)], tags):
        if preferred:
            return preferred[0]
    return None


def imagenet1k_head(spec: TimmSpec) -> bool:
    """Whether the tag's head is ImageNet-1k's 1000 classes in their order (a known name)."""
    return spec.name in _known(spec.name).imagenet1k


def head_refusal(spec: TimmSpec, *, linear_probe: bool) -> str | None:
    """Why the class mapping cannot score the tag's head, with the fix; None for ImageNet-1k's.

    The linear probe reads features, not logits, so it scores any head: with ``linear_probe`` on
    the text says the probe scores the model alone; with it off, how to turn it on.
    """
    known = _known(spec.name)
    if spec.name in known.imagenet1k:
        return None
    classes = known.classes[spec.name]
    head = "no classifier head" if classes == 0 else f"a head of {classes:,} classes"
    tag = _fine_tuned_on_1k(spec, known)
    fix = (
        f"Use a tag fine-tuned on ImageNet-1k: {TIMM_PREFIX}{spec.architecture}.{tag}."
        if tag
        else f"timm publishes no ImageNet-1k head for {spec.architecture}: choose another model."
    )
    probe = (
        "the linear probe scores it alone, from its features: its runs write no logits"
        if linear_probe
        else "the linear probe could, from its features: turn linear_probe on"
    )
    return (
        f"timm model {spec.config_name} has {head}, not ImageNet-1k's 1000 classes in their "
        f"order, so the class mapping cannot score it ({probe}). {fix}"
    )


def scorable_names() -> tuple[list[str], dict[str, str]]:
    """Every pretrained name (timm's list order), and why the class mapping cannot score some
    (their head, or a preprocessing this workflow does not reproduce)."""
    known = timm_catalog()
    imagenet1k = set(known.imagenet1k)
    left_out = {}
    for name in known.classes:
        if name not in imagenet1k:
            left_out[name] = "head not ImageNet-1k's"
        elif name in known.unsupported_crop:
            left_out[name] = "preprocessing not reproduced"
    return list(known.classes), left_out


def _check_preprocessing(spec: TimmSpec, known: TimmCatalog) -> None:
    mode = known.unsupported_crop.get(spec.name)
    if mode is not None:
        raise UserError(
            f"timm model {spec.config_name} is evaluated with crop mode {mode!r}, which this "
            f"workflow does not reproduce (only {', '.join(SUPPORTED_CROP_MODES)}); choose "
            "another tag or model."
        )


def untrained_weights(spec: TimmSpec, weights: str) -> bool:
    """Whether the weights setting means an untrained model: 'none' yes; 'DEFAULT' or the tag no."""
    return spec.untrained(weights)


def timm_weights_label(spec: TimmSpec, weights: str) -> str:
    """The weights as run facts record them: 'none', or 'timm/<architecture>.<tag>'."""
    return NONE_WEIGHTS if untrained_weights(spec, weights) else f"timm/{spec.name}"


def check_timm_spec(spec: TimmSpec, weights: str, *, logits: bool = True) -> None:
    """Refuse, with the fix, a name timm has no weights for, a head the class mapping cannot
    score (where ``logits`` are asked for: the features of any head serve the linear probe), a
    preprocessing this workflow cannot reproduce, or weights that do not fit."""
    known = _check_name(spec)
    refusal = head_refusal(spec, linear_probe=False) if logits else None
    if refusal:
        raise UserError(refusal)
    _check_preprocessing(spec, known)
    untrained_weights(spec, weights)
