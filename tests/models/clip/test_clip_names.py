"""CLIP model names: syntax, slugs (checked against the installed open_clip), checks."""

import re

import open_clip
import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.clip import names as clip_names
from cifar_zeroshot.models.clip.names import (
    CLIP_SLUG_PATTERN,
    ClipSpec,
    check_clip_spec,
    parse_clip_name,
    spec_from_slug,
    untrained_weights,
)
from cifar_zeroshot.models.torchvision.catalog import classification_model_names

PRETRAINED = open_clip.list_pretrained()


def test_open_clip_names_fit_the_slug_scheme() -> None:
    """The facts the slug scheme rests on, for every architecture and tag open_clip publishes."""
    assert len(PRETRAINED) > 100
    for architecture, tag in PRETRAINED:
        assert "." not in architecture and "." not in tag
        assert re.fullmatch(r"[A-Za-z0-9_-]+", architecture), architecture
        assert re.fullmatch(r"[a-z0-9_]+", tag), tag  # lowercase, never '-'
    architectures = {architecture for architecture, _ in PRETRAINED}
    assert len({a.lower() for a in architectures}) == len(architectures)  # no case-only twins


def test_every_published_model_round_trips_through_name_and_slug() -> None:
    slugs = set()
    for architecture, tag in PRETRAINED:
        spec = ClipSpec(architecture, tag)
        assert parse_clip_name(spec.config_name) == spec
        assert re.fullmatch(CLIP_SLUG_PATTERN, spec.slug)
        assert spec_from_slug(spec.slug) == spec
        slugs.add(spec.slug)
    assert len(slugs) == len(PRETRAINED)


def test_name_and_slug_of_an_example() -> None:
    spec = parse_clip_name("clip:ViT-B-32/openai")
    assert spec == ClipSpec("ViT-B-32", "openai")
    assert spec.config_name == "clip:ViT-B-32/openai"
    assert spec.slug == "clip-ViT-B-32.openai"
    assert parse_clip_name("CLIP:RN50/openai") == ClipSpec("RN50", "openai")


def test_slugs_never_collide_with_torchvision_names_and_end_at_the_tag() -> None:
    assert not any(re.fullmatch(CLIP_SLUG_PATTERN, n) for n in classification_model_names())
    # A variant name after a '-' cannot be taken for part of the tag.
    match = re.fullmatch(rf"({CLIP_SLUG_PATTERN})-(.+)", "clip-ViT-B-32.openai-bf16-compile")
    assert match is not None
    assert match.groups() == ("clip-ViT-B-32.openai", "bf16-compile")


@pytest.mark.parametrize("name", ["resnet50", "alexnet", "clipper", "vit_b_32", ""])
def test_other_model_names_are_not_clip_names(name: str) -> None:
    assert parse_clip_name(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("clip:../x/openai", "architecture '..' may hold only"),
        ("clip:ViT-B-32/../../etc", "tag '../../etc' may hold only"),
        ("clip:ViT-B-32/open.ai", "tag 'open.ai' may hold only"),
        ("clip:ViT B/openai", "architecture 'ViT B' may hold only"),
        ("clip:ViT-B-32/open-ai", "tag 'open-ai' may hold only"),
        ("clip:ViT-B-32", "names no architecture and pretrained tag"),
        ("clip:ViT-B-32/", "names no architecture and pretrained tag"),
        ("clip:/openai", "names no architecture and pretrained tag"),
    ],
)
def test_unsafe_or_incomplete_names_are_refused_with_the_syntax(name: str, problem: str) -> None:
    with pytest.raises(UserError, match=re.escape(problem)) as caught:
        parse_clip_name(name)
    assert "clip:<architecture>/<pretrained tag>" in str(caught.value)


@pytest.mark.parametrize(
    "slug",
    ["clip-ViT-B-32", "ViT-B-32.openai", "clip-ViT-B-32.openai.x", "clip-ViT-B-32.op-en", "clip-."],
)
def test_malformed_slugs_are_refused(slug: str) -> None:
    with pytest.raises(UserError, match="expected clip-<architecture>.<tag>"):
        spec_from_slug(slug)


@pytest.mark.parametrize(
    ("architecture", "suggestion"),
    [("ViT-B-33", "ViT-B-32"), ("vit-b-32", "ViT-B-32"), ("RN05", "RN50")],
)
def test_unknown_architecture_lists_close_matches(architecture: str, suggestion: str) -> None:
    with pytest.raises(UserError, match="unknown architecture") as caught:
        check_clip_spec(ClipSpec(architecture, "openai"), "DEFAULT")
    message = str(caught.value)
    assert re.search(rf"Did you mean [^?]*\b{re.escape(suggestion)}\b", message)
    assert "list_pretrained" in message


def test_architecture_without_published_weights_is_named_as_such() -> None:
    assert "ViT-S-32" in open_clip.list_models()
    with pytest.raises(UserError, match="publishes no pretrained weights for it"):
        check_clip_spec(ClipSpec("ViT-S-32", "openai"), "none")


@pytest.mark.parametrize(
    ("tag", "hint"),
    [
        ("opnai", "Did you mean openai"),
        ("OpenAI", "Write it as 'openai'"),
        ("laion2b_s34b", "Did you mean laion2b_s34b_b79k"),
    ],
)
def test_unknown_tag_lists_close_matches_and_the_tags(tag: str, hint: str) -> None:
    with pytest.raises(UserError, match=f"ViT-B-32 has no pretrained tag '{tag}'") as caught:
        check_clip_spec(ClipSpec("ViT-B-32", tag), "DEFAULT")
    message = str(caught.value)
    assert hint in message
    assert "Its tags: " + ", ".join(open_clip.list_pretrained_tags_by_model("ViT-B-32")) in message


def test_known_names_pass() -> None:
    check_clip_spec(ClipSpec("ViT-B-32", "openai"), "DEFAULT")
    check_clip_spec(ClipSpec("RN50", "yfcc15m"), "none")


def test_weights_setting_rule() -> None:
    spec = ClipSpec("ViT-B-32", "laion2b_s34b_b79k")
    assert untrained_weights(spec, "none") and untrained_weights(spec, " None ")
    assert not untrained_weights(spec, "DEFAULT")
    assert not untrained_weights(spec, "laion2b_s34b_b79k")
    for weights in ("IMAGENET1K_V1", "openai", "default"):
        with pytest.raises(UserError, match="named by its tag") as caught:
            check_clip_spec(spec, weights)
        message = str(caught.value)
        assert f"{weights!r}" in message
        assert "Use DEFAULT (or laion2b_s34b_b79k)" in message and "none" in message
        assert "clip:ViT-B-32/<tag>, <tag> one of openai, laion400m_e31," in message


def test_architectures_needing_transformers_are_refused_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clip_names, "_has_transformers", lambda: False)
    with pytest.raises(UserError, match="needs the transformers package") as caught:
        check_clip_spec(ClipSpec("ViT-B-16-SigLIP", "webli"), "none")
    assert "'timm/ViT-B-16-SigLIP'" in str(caught.value)
    check_clip_spec(ClipSpec("ViT-B-32", "openai"), "none")  # open_clip's own tokenizer
    monkeypatch.setattr(clip_names, "_has_transformers", lambda: True)
    check_clip_spec(ClipSpec("ViT-B-16-SigLIP", "webli"), "none")
