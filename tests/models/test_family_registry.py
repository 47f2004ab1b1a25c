"""The model families: each slug and config name goes to its family, and no module outside the
registry tells families apart by their prefixes."""

import re
from pathlib import Path

import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.models.family_registry import (
    CLIP,
    EMBEDDINGS_SLUG_PATTERN,
    EXPORT_SLUG_PATTERN,
    FAMILIES,
    LOGITS_SLUG_PATTERN,
    MODEL_SLUG_PATTERN,
    TIMM,
    TORCHVISION,
    family_of_config_name,
    family_of_slug,
)

WORKFLOW = Path(__file__).resolve().parents[2] / "workflow"
PACKAGE = WORKFLOW / "cifar_zeroshot"
# The modules that may tell families apart by name: the registry and the families themselves.
REGISTRY = (
    PACKAGE / "models" / "family.py",
    PACKAGE / "models" / "family_registry.py",
    PACKAGE / "models" / "hub_names.py",
    PACKAGE / "models" / "clip",
    PACKAGE / "models" / "timm",
    PACKAGE / "models" / "torchvision",
)
# A family prefix as a whole string literal ('clip:', "timm-"), a family predicate, one family's
# prefix constant or slug pattern, or a startswith on a prefix; a message naming
# 'timm:resnet50' in passing is no test.
PREFIX_TEST = re.compile(
    r"""["'](clip|timm)[:-]["']|\bis_(clip|timm)\w*|(CLIP|TIMM)_(SLUG_)?(PREFIX|PATTERN)"""
    r"""|startswith\(\s*(["'](clip|timm)|\w*(PREFIX|prefix))"""
)

SLUGS = {
    "resnet50": TORCHVISION,
    "vit_b_16": TORCHVISION,
    "timm-resnet50.a1_in1k": TIMM,
    "timm-vit_base_patch16_224.augreg_in21k": TIMM,
    "clip-ViT-B-32.openai": CLIP,
    "clip-RN50.openai": CLIP,
}


def _outside_registry() -> list[Path]:
    files = [*PACKAGE.rglob("*.py"), *(WORKFLOW / "rules").glob("*.smk")]
    return [f for f in files if not any(f == r or r in f.parents for r in REGISTRY)]


def test_no_family_prefix_is_tested_outside_the_registry() -> None:
    found = [
        f"{path.relative_to(WORKFLOW.parent)}:{number}: {line.strip()}"
        for path in _outside_registry()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PREFIX_TEST.search(line)
    ]
    assert not found, "family prefix tests outside models.family_registry:\n" + "\n".join(found)


def test_the_prefix_grep_finds_what_it_is_for() -> None:
    for line in (
        'if model.startswith("clip-"):',
        "if name.lower().startswith(TIMM_PREFIX):",
        "if is_clip_slug(model):",
        "m.is_timm",
        'model=rf"[a-z0-9_]+|{TIMM_SLUG_PATTERN}",',
        "kind = 'embeddings' if name[:5] == 'clip:' else 'logits'",
    ):
        assert PREFIX_TEST.search(line), line
    for line in ('if line.startswith("## "):', '"for example timm:resnet50.a1_in1k"'):
        assert not PREFIX_TEST.search(line), line


@pytest.mark.parametrize(("slug", "family"), SLUGS.items())
def test_each_slug_goes_to_its_family(slug: str, family: object) -> None:
    assert family_of_slug(slug) is family
    assert re.fullmatch(family.slug_pattern, slug)
    assert re.fullmatch(MODEL_SLUG_PATTERN, slug)
    kind = EMBEDDINGS_SLUG_PATTERN if family.output_kind == "embeddings" else LOGITS_SLUG_PATTERN
    assert re.fullmatch(kind, slug)
    assert bool(re.fullmatch(EXPORT_SLUG_PATTERN, slug)) is family.exports_onnx


def test_the_patterns_of_the_two_output_kinds_never_match_one_slug() -> None:
    for slug in SLUGS:
        assert not (
            re.fullmatch(LOGITS_SLUG_PATTERN, slug) and re.fullmatch(EMBEDDINGS_SLUG_PATTERN, slug)
        )


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("resnet50", TORCHVISION),
        ("resnet50:IMAGENET1K_V1", TORCHVISION),
        ("timm:resnet50.a1_in1k", TIMM),
        ("TIMM:resnet50", TIMM),
        ("clip:ViT-B-32/openai", CLIP),
        ("Clip:RN50/openai", CLIP),
        ("", TORCHVISION),
    ],
)
def test_each_config_name_goes_to_its_family(name: str, family: object) -> None:
    assert family_of_config_name(name) is family


@pytest.mark.parametrize("slug", ["foo-bar", "x/y", "../resnet50", "", 3])
def test_an_unknown_slug_is_refused_naming_the_forms(slug: object) -> None:
    with pytest.raises(UserError, match="folder name of no model family") as refused:
        family_of_slug(slug)  # type: ignore[arg-type]
    assert "timm-" in str(refused.value) and "clip-" in str(refused.value)


def test_the_registry_holds_each_family_once_with_its_own_prefixes() -> None:
    assert [f.name for f in FAMILIES] == ["torchvision", "timm", "clip"]
    assert len({f.config_prefix for f in FAMILIES}) == len({f.slug_prefix for f in FAMILIES}) == 3


def test_clip_runs_only_torch_with_its_weights_preprocessing() -> None:
    assert CLIP.runs_variant(Variant("fp32"))
    for other in (Variant("fp32", runtime="onnxruntime"), Variant("fp32", preprocess="labreport")):
        assert not CLIP.runs_variant(other)
        assert TORCHVISION.runs_variant(other) and TIMM.runs_variant(other)
