"""A model family (torchvision, timm, CLIP) as a value: everything that differs between them.

The config names a model by a family prefix ('' for torchvision, 'timm:', 'clip:'); its folder
under results/ (its slug) by a slug prefix ('', 'timm-', 'clip-'). The rest of the project asks
the model's family (models.family_registry looks it up) instead of testing prefixes itself.
Each family's instance lives in its subpackage (models.<family>.family).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cifar_zeroshot.core.variants import Variant

OutputKind = Literal["logits", "embeddings"]
# Where the linear probe's features come from: every model of the family exposes them, each
# model's width is measured (models.feature_widths), or the family is scored otherwise.
FeatureSource = Literal["every", "measured", "none"]


@dataclass(frozen=True)
class ParsedName:
    """A config entry's model as its family reads it, checked."""

    slug: str
    config_name: str
    # A head the class mapping cannot score: the linear probe alone scores the model.
    probe_only: bool = False


@dataclass(frozen=True)
class PublishedFigures:
    """What a model's publisher reports for it on ImageNet-1k (None: not published or at hand)."""

    top1: float | None  # validation top-1, a fraction (as metrics.csv's accuracy); None untrained
    params_m: float | None  # parameters, millions


@dataclass(frozen=True)
class CollectionSource:
    """How a family's models are named as a collection (models.collection)."""

    prefix: str  # what starts a collection: 'torchvision:', 'timm:'
    # Whether the text after the prefix is a collection only with a wildcard in it (a plain
    # 'timm:resnet50.a1_in1k' is one model).
    needs_wildcard: bool
    # The family's names (without config prefix) in its list order, and for those a collection
    # leaves out, why (a head the class mapping cannot score).
    names: Callable[[], tuple[list[str], dict[str, str]]]
    listing_hint: str  # how to list every name
    # Why parameter counts are unknown for the whole family (a table absent), else None.
    params_unknown: Callable[[], str | None]


@dataclass(frozen=True)
class ModelFamily:
    name: str  # 'torchvision', 'timm', 'clip'
    config_prefix: str  # what starts its config names, lowercase ('' for none)
    slug_prefix: str  # what starts its results folder names ('' for none)
    slug_pattern: str  # a regex (Snakemake wildcard constraint) matching exactly its slugs
    output_kind: OutputKind  # the per-image file its runs write
    exports_onnx: bool
    # The one runtime and preprocessing its runs take (None: every variant's).
    only_runtime: str | None
    only_preprocess: str | None
    features: FeatureSource
    # (config name, weights as written) -> its slug and config name, checked. None: the config
    # name is the slug, weights may follow it after ':' and are checked once all are parsed.
    parse: Callable[[str, str], ParsedName] | None
    # (slug, weights as written) -> the weights as run facts record them.
    weights_label: Callable[[str, str], str]
    # (slug, weights as written) -> the weights its ONNX export is made from; None: no export.
    export_weights: Callable[[str, str], str] | None
    # Its models as collections; None: a collection cannot name them.
    collection: CollectionSource | None = None
    # (config name, weights as written) -> what its publisher reports; None: nothing published.
    published: Callable[[str, str], PublishedFigures] | None = None

    def runs_variant(self, variant: Variant) -> bool:
        return (self.only_runtime is None or variant.runtime == self.only_runtime) and (
            self.only_preprocess is None or variant.preprocess == self.only_preprocess
        )
