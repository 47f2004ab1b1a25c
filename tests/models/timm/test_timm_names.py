"""timm names: the slug facts against the installed timm, the catalog cache, and every bad name
refused with its fix."""

import json
import re

import pytest
import timm
from timm.models import get_pretrained_cfg

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.timm import catalog as catalog_module
from cifar_zeroshot.models.timm.catalog import timm_catalog
from cifar_zeroshot.models.timm.names import (
    TIMM_SLUG_PATTERN,
    TimmSpec,
    check_timm_spec,
    parse_timm_name,
    spec_from_slug,
    timm_weights_label,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_ZEROSHOT_CACHE", str(tmp_path))
    monkeypatch.setattr(catalog_module.CATALOG, "loaded", None)
    return tmp_path


def test_every_pretrained_name_makes_a_slug_that_names_it_back():
    """What slugs.py relies on: lowercase, digits and '_' around one '.'."""
    for name in timm.list_pretrained():
        architecture, _, tag = name.partition(".")
        spec = TimmSpec(architecture, tag)
        assert re.fullmatch(TIMM_SLUG_PATTERN, spec.slug), name
        assert spec_from_slug(spec.slug) == spec


def test_the_catalog_holds_timms_names_and_heads(cache):
    found = timm_catalog()
    assert list(found.classes) == timm.list_pretrained()
    assert found.classes["vit_small_patch16_224.augreg_in21k"] == 21843
    assert "resnet50.a1_in1k" in found.imagenet1k
    assert found.defaults["convnext_tiny"] == get_pretrained_cfg("convnext_tiny").tag
    assert len(list(cache.glob("timm-*-names.json"))) == 1
    catalog_module.CATALOG.loaded = None
    assert timm_catalog() == found  # read back from the file


def test_a_damaged_cache_is_not_believed(cache):
    found = timm_catalog()
    (path,) = cache.glob("timm-*-names.json")
    raw = json.loads(path.read_text())
    path.write_text(json.dumps({**raw, "classes": {"resnet50.a1_in1k": "1000"}}))
    catalog_module.CATALOG.loaded = None
    assert timm_catalog() == found


def test_a_name_without_a_tag_takes_timms_default():
    spec = parse_timm_name("timm:convnext_tiny")
    assert spec == TimmSpec("convnext_tiny", get_pretrained_cfg("convnext_tiny").tag)
    assert parse_timm_name("TIMM: resnet50.a1_in1k").slug == "timm-resnet50.a1_in1k"
    assert parse_timm_name("resnet50") is None  # not a timm name


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("timm:", "names no model; write timm:<model name>.<pretrained tag>"),
        (
            "timm:resnet5o",
            "no pretrained weights for a model called 'resnet5o'. Did you mean resnet50",
        ),
        ("timm:resnet50.a1_in1kk", "no pretrained tag 'a1_in1kk'. Did you mean a1_in1k"),
        ("timm:resnet_fifty.a1_in1k", "no pretrained weights named 'resnet_fifty.a1_in1k'"),
        ("timm:resnet50.A1", "may hold only lowercase letters"),
        ("timm:../x.y", "may hold only lowercase letters"),
    ],
)
def test_bad_names_are_refused_with_close_matches(name, match):
    with pytest.raises(UserError, match=re.escape(match)):
        check_timm_spec(parse_timm_name(name), "none")


@pytest.mark.parametrize(
    ("name", "head", "fix"),
    [
        ("timm:vit_small_patch16_224.augreg_in21k", "a head of 21,843 classes",
         "timm:vit_small_patch16_224.augreg_in21k_ft_in1k"),
        ("timm:convnext_tiny.dinov3_lvd1689m", "no classifier head", "timm:convnext_tiny."),
    ],
)  # fmt: skip
def test_a_head_that_is_not_imagenet_1k_is_refused_naming_a_fine_tuned_tag(name, head, fix):
    with pytest.raises(UserError) as caught:
        check_timm_spec(parse_timm_name(name), "none")
    message = str(caught.value)
    assert head in message and "the class mapping cannot score it" in message
    assert f"Use a tag fine-tuned on ImageNet-1k: {fix}" in message
    check_timm_spec(parse_timm_name(message.rsplit(": ", 1)[1].rstrip(".")), "none")


def test_weights_are_none_default_or_the_tag():
    spec = TimmSpec("resnet50", "a1_in1k")
    assert timm_weights_label(spec, "none") == "none"
    assert timm_weights_label(spec, "DEFAULT") == timm_weights_label(spec, "a1_in1k")
    assert timm_weights_label(spec, "a1_in1k") == "timm/resnet50.a1_in1k"
    with pytest.raises(UserError, match="named by its tag.*timm:resnet50.<tag>"):
        timm_weights_label(spec, "IMAGENET1K_V2")


def test_a_slug_of_another_shape_is_refused():
    with pytest.raises(UserError, match="not the folder name of a timm model"):
        spec_from_slug("timm-resnet50")
