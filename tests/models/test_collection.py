"""Model collections: `torchvision:all` and timm patterns expanded into model names, filtered,
and refused where they match nothing or too much. Held against torchvision and timm themselves."""

import fnmatch
from pathlib import Path

import pytest
import torchvision

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.collection import (
    CONFIRM_ABOVE,
    RUN_INFO_LISTING,
    SUMMARY_NAMES,
    collection_request,
    expand_collection,
)
from cifar_zeroshot.models.family_registry import TIMM, TORCHVISION, family_of_collection
from cifar_zeroshot.models.timm.catalog import timm_catalog
from cifar_zeroshot.models.timm.published import TIMM_RESULTS, TIMM_RESULTS_VARIABLE

# Rows in the format of timm's results/results-imagenet.csv (published parameter counts).
TABLE_HEADER = "model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation\n"
PARAMS_M = {
    "resnet18.a1_in1k": 11.69,
    "resnet34.a1_in1k": 21.80,
    "resnet50.a1_in1k": 25.56,
    "resnet101.a1_in1k": 44.55,
    "resnet152.a1_in1k": 60.19,
}


def _expand(entry):
    request = collection_request(entry)
    assert request is not None
    return expand_collection(request)


@pytest.fixture
def params_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A published table holding resnet*.a1_in1k's parameters, resnet50d's left out."""
    rows = [
        f"{name},224,80.0,20.0,95.0,5.0,{params},0.95,bicubic" for name, params in PARAMS_M.items()
    ]
    path = tmp_path / "results-imagenet.csv"
    path.write_text(TABLE_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(path))
    return path


def test_torchvision_all_is_every_classifier_with_imagenet_weights():
    expansion = _expand("torchvision:all")
    names = torchvision.models.list_models(module=torchvision.models)
    assert len(expansion.models) > 50
    assert sorted(expansion.models) == sorted(names)
    for name in expansion.models:
        default = torchvision.models.get_model_weights(name).DEFAULT
        assert default.meta["_metrics"]["ImageNet-1K"]["acc@1"] > 0


def test_a_torchvision_pattern_takes_the_names_it_matches():
    assert _expand("torchvision:resnet*").models == (
        "resnet101",
        "resnet152",
        "resnet18",
        "resnet34",
        "resnet50",
    )


@pytest.mark.parametrize("pattern", ["resnet*.a1_in1k", "convnext_*.fb_in1k", "*_in1k"])
def test_a_timm_pattern_is_what_timm_lists_less_heads_the_mapping_cannot_score(pattern):
    timm = pytest.importorskip("timm")
    listed = timm.list_models(pattern, pretrained=True)  # offline: timm's own registry
    known = timm_catalog()
    scorable = [
        name for name in listed if name in known.imagenet1k and name not in known.unsupported_crop
    ]
    expansion = _expand({"collection": f"timm:{pattern}", "limit": 5000})
    assert sorted(expansion.models) == sorted(f"timm:{name}" for name in scorable)


def test_timm_leaves_out_heads_that_are_not_imagenet_1ks_and_says_so():
    expansion = _expand("timm:vit_small_patch16_224.*")
    assert "timm:vit_small_patch16_224.augreg_in21k_ft_in1k" in expansion.models
    assert "timm:vit_small_patch16_224.augreg_in21k" not in expansion.models
    assert any("head not ImageNet-1k's" in note for note in expansion.notes)
    assert expansion.summary().startswith("collection timm:vit_small_patch16_224.* -> ")


def test_exclude_and_limit_filter_the_collection():
    expansion = _expand(
        {"collection": "timm:resnet*.a1_in1k", "exclude": ["*50*", "timm:resnet152.*"]}
    )
    assert expansion.models == (
        "timm:resnet18.a1_in1k",
        "timm:resnet34.a1_in1k",
        "timm:resnet101.a1_in1k",
    )
    assert expansion.notes == ("3 left out: excluded",)
    limited = _expand({"collection": "timm:resnet*.a1_in1k", "limit": 2})
    assert limited.models == ("timm:resnet18.a1_in1k", "timm:resnet34.a1_in1k")
    assert limited.notes == ("4 past limit 2",)


def test_max_params_m_keeps_the_models_published_at_or_under_it(params_table):
    expansion = _expand({"collection": "timm:resnet*.a1_in1k", "max_params_m": 25.56})
    assert expansion.models == (
        "timm:resnet18.a1_in1k",
        "timm:resnet34.a1_in1k",
        "timm:resnet50.a1_in1k",
    )
    assert "1 left out: no published parameter count" in expansion.notes  # resnet50d
    assert "2 left out: over 25.56 M parameters" in expansion.notes


def test_max_params_m_on_torchvision_reads_its_weights_meta():
    expansion = _expand({"collection": "torchvision:all", "max_params_m": 3})
    assert "squeezenet1_1" in expansion.models and "resnet50" not in expansion.models
    for name in expansion.models:
        meta = torchvision.models.get_model_weights(name).DEFAULT.meta
        assert meta["num_params"] <= 3e6


def test_max_params_m_without_timms_table_is_refused_with_the_fix(tmp_path, monkeypatch):
    entry = {"collection": "timm:resnet*.a1_in1k", "max_params_m": 30}
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(tmp_path / "absent.csv"))
    with pytest.raises(UserError, match=r"absent.csv \(named by .*which is absent. Fix: put your"):
        _expand(entry)
    # The cache absent (no download happened): the file to place, its source and SHA-256.
    monkeypatch.delenv(TIMM_RESULTS_VARIABLE)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as refused:
        _expand(entry)
    message = str(refused.value)
    assert message.startswith("collection timm:resnet*.a1_in1k: max_params_m filters by the ")
    assert f"{TIMM_RESULTS.cache} is absent" in message
    assert TIMM_RESULTS.url in message and TIMM_RESULTS.sha256 in message
    assert message.endswith("or drop max_params_m.")


def test_the_dry_runs_line_names_ten_models_and_says_where_the_rest_are():
    expansion = _expand("torchvision:all")
    line = expansion.summary()
    more = len(expansion.models) - SUMMARY_NAMES
    assert more > 0
    shown = line.split(" models: ", 1)[1].split(f" and {more} more")[0].split(", ")
    assert shown == list(expansion.models[:SUMMARY_NAMES])
    assert line.endswith(f" and {more} more; the full list is in {RUN_INFO_LISTING}")
    small = _expand("torchvision:resnet*")
    assert small.summary().endswith(": " + ", ".join(small.models))


def test_a_pattern_that_matches_nothing_is_refused_with_close_names():
    with pytest.raises(
        UserError, match=r"timm:resnt\*.a1_in1k matches no model. Close names:.*resnet"
    ):
        _expand("timm:resnt*.a1_in1k")
    with pytest.raises(UserError, match=r"Its models' tags include: a1_in1k"):
        _expand("timm:resnet*.a1_inlk")
    with pytest.raises(UserError, match="torchvision:resnt50 matches no model.*resnet50"):
        _expand("torchvision:resnt50")


def test_filters_that_leave_nothing_are_refused(params_table):
    with pytest.raises(UserError, match=r"matches 6 models, and none is left .*over 1 M"):
        _expand({"collection": "timm:resnet*.a1_in1k", "max_params_m": 1})


def test_more_than_the_threshold_needs_confirm_with_its_exact_count():
    with pytest.raises(UserError) as caught:
        _expand("timm:*_in1k")
    message = str(caught.value)
    count = len(_expand({"collection": "timm:*_in1k", "limit": 100_000}).models)
    assert count > CONFIRM_ABOVE
    assert f"expands to {count:,} models, more than {CONFIRM_ABOVE}" in message
    assert f"{{collection: 'timm:*_in1k', confirm: {count}}}" in message
    assert len(_expand({"collection": "timm:*_in1k", "confirm": count}).models) == count
    with pytest.raises(UserError, match=f"Fix: set confirm: {count}"):
        _expand({"collection": "timm:*_in1k", "confirm": count - 1})


def test_which_names_are_collections():
    assert family_of_collection("torchvision:all") is TORCHVISION
    assert family_of_collection("Torchvision:resnet*") is TORCHVISION
    assert family_of_collection("timm:resnet*.a1_in1k") is TIMM
    for single in ("timm:resnet50.a1_in1k", "resnet50", "clip:ViT-B-32/openai", "alexnet:none"):
        assert family_of_collection(single) is None
        assert collection_request(single) is None
    assert collection_request({"name": "resnet50"}) is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"collection": "timm:resnet*", "max_param": 3}, "has the key.s. max_param"),
        ({"collection": "resnet*"}, "names no collection: write torchvision:all"),
        ({"collection": "torchvision:"}, "names no collection"),
    ],
)
def test_a_bad_collection_entry_is_refused_with_the_fix(entry, message):
    with pytest.raises(UserError, match=message):
        collection_request(entry)


def test_fnmatch_case_matches_timms_names_exactly():
    # The patterns are matched case-sensitively after lowering: timm's names are lowercase.
    assert all(name == name.lower() for name in timm_catalog().classes)
    assert not fnmatch.fnmatchcase("resnet50.a1_in1k", "RESNET*")
    assert _expand("timm:RESNET18.A1_*").models == ("timm:resnet18.a1_in1k",)
