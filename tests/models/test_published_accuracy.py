"""Each model's published ImageNet-1k top-1 (a fraction) and parameters, held against the
publishers: torchvision's weights meta, and timm's results table (a small table in its format
here; the real one where it is at hand). Where the table is read from: a user's own copy, or the
cache only with the pinned SHA-256."""

import hashlib
import os
from pathlib import Path

import pytest
import torchvision

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.published_accuracy import (
    published_figures,
    published_imagenet_top1,
    published_params_m,
)
from cifar_zeroshot.models.timm.published import (
    TIMM_RESULTS,
    TIMM_RESULTS_VARIABLE,
    PinnedTable,
    read_timm_results,
    table_unavailable,
    timm_results,
)

# Rows as timm's results/results-imagenet.csv writes them: convnext_atto.d2_in1k validated at
# its test size (288) and its input size (224), and a parameter count with a thousands comma.
TABLE = """model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation
eva_giant_patch14_560.m30m_ft_in22k_in1k,560,89.790,10.210,98.990,1.010,"1,014.45",1.000,bicubic
resnet50.a1_in1k,224,80.382,19.618,94.612,5.388,25.56,0.950,bicubic
convnext_atto.d2_in1k,288,77.016,22.984,93.702,6.298,3.70,0.950,bicubic
convnext_atto.d2_in1k,224,75.672,24.328,92.916,7.084,3.70,0.875,bicubic
"""


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "results-imagenet.csv"
    path.write_text(TABLE, encoding="utf-8")
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(path))
    return path


@pytest.mark.parametrize(
    ("model", "weights", "enum_member"),
    [("resnet50", "DEFAULT", "DEFAULT"), ("resnet50", "IMAGENET1K_V1", "IMAGENET1K_V1")],
)
def test_torchvision_top1_is_the_weights_meta_as_a_fraction(model, weights, enum_member):
    meta = torchvision.models.get_model_weights(model)[enum_member].meta
    expected = meta["_metrics"]["ImageNet-1K"]["acc@1"] / 100
    assert published_imagenet_top1(model, weights) == pytest.approx(expected)
    assert published_params_m(model) == pytest.approx(meta["num_params"] / 1e6)


def test_resnet50s_two_weights_have_their_own_top1():
    assert published_imagenet_top1("resnet50", "IMAGENET1K_V1") == pytest.approx(0.7613)
    assert published_imagenet_top1("resnet50", "IMAGENET1K_V2") == pytest.approx(0.80858)


def test_untrained_weights_and_clip_models_have_no_published_top1(table):
    assert published_imagenet_top1("alexnet", "none") is None
    assert published_imagenet_top1("timm:resnet50.a1_in1k", "none") is None
    assert published_imagenet_top1("clip:ViT-B-32/openai") is None
    # An untrained model's architecture still has its parameters.
    assert published_figures("timm:resnet50.a1_in1k", "none").params_m == pytest.approx(25.56)


def test_timm_top1_and_parameters_come_from_its_table(table):
    assert published_imagenet_top1("timm:resnet50.a1_in1k") == pytest.approx(0.80382)
    assert published_imagenet_top1("timm:resnet50.a1_in1k", "a1_in1k") == pytest.approx(0.80382)
    # A name without a tag is timm's default tag for it.
    assert published_imagenet_top1("timm:resnet50") == pytest.approx(0.80382)
    assert published_params_m("timm:eva_giant_patch14_560.m30m_ft_in22k_in1k") == 1014.45
    assert published_imagenet_top1("timm:resnet18.a1_in1k") is None  # not in this table


def test_a_model_validated_at_two_sizes_takes_the_size_it_runs_at(table):
    timm = pytest.importorskip("timm")
    # This workflow runs timm's data config, whose input size is 224 (288 is its test size).
    config = timm.data.resolve_model_data_config(
        timm.create_model("convnext_atto.d2_in1k", pretrained=False)
    )
    assert config["input_size"][1] == 224
    assert read_timm_results(table)["convnext_atto.d2_in1k"].image_size == 224
    assert published_imagenet_top1("timm:convnext_atto.d2_in1k") == pytest.approx(0.75672)


def test_without_the_table_timm_figures_are_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(tmp_path / "absent.csv"))
    assert published_imagenet_top1("timm:resnet50.a1_in1k") is None
    assert published_params_m("timm:resnet50.a1_in1k") is None
    why = table_unavailable()
    assert why is not None
    assert f"{tmp_path / 'absent.csv'} (named by ${TIMM_RESULTS_VARIABLE})" in why
    assert f"unset {TIMM_RESULTS_VARIABLE}" in why


def _pinned(tmp_path: Path, text: str) -> PinnedTable:
    data = text.encode()
    return PinnedTable(
        "http://127.0.0.1:9/results-imagenet.csv",
        hashlib.sha256(data).hexdigest(),
        len(data),
        tmp_path / "data" / "published" / "timm-results-imagenet.csv",
    )


def test_the_cache_is_read_only_with_the_pinned_sha256(tmp_path, monkeypatch):
    monkeypatch.delenv(TIMM_RESULTS_VARIABLE, raising=False)
    pinned = _pinned(tmp_path, TABLE)
    why = table_unavailable(pinned)
    assert why is not None and f"{pinned.cache} is absent" in why
    assert pinned.url in why and pinned.sha256 in why and TIMM_RESULTS_VARIABLE in why
    assert timm_results(pinned) is None
    pinned.cache.parent.mkdir(parents=True)
    pinned.cache.write_text(TABLE, encoding="utf-8")  # placed by hand: read as it is
    assert table_unavailable(pinned) is None
    assert timm_results(pinned)["resnet50.a1_in1k"].top1 == pytest.approx(0.80382)
    # Another file at the cache's path (another timm version, a cut download) is not read.
    altered = TABLE.replace("80.382", "80.383")
    pinned.cache.write_text(altered, encoding="utf-8")
    os.utime(pinned.cache, ns=(1, 1))  # a new mtime, so no cached hash is reused
    why = table_unavailable(pinned)
    assert why is not None and "is not the pinned file" in why
    assert hashlib.sha256(altered.encode()).hexdigest() in why and pinned.sha256 in why
    assert timm_results(pinned) is None


def test_the_pinned_table_is_timms_file_at_one_commit():
    commit = "aa4b5850c1543fa488abf260f18390eda46cf85d"
    assert TIMM_RESULTS.url == (
        f"https://raw.githubusercontent.com/huggingface/pytorch-image-models/{commit}"
        "/results/results-imagenet.csv"
    )
    assert TIMM_RESULTS.cache == Path("data/published/timm-results-imagenet.csv")
    assert len(TIMM_RESULTS.sha256) == 64 and int(TIMM_RESULTS.sha256, 16) >= 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model,top1\nresnet50.a1_in1k,80.1\n", "lacks the column.s. img_size, param_count"),
        ("model,img_size,top1,param_count\nresnet50.a1_in1k,224,high,25.56\n", "line 2"),
    ],
)
def test_a_table_not_in_timms_format_is_refused(tmp_path, monkeypatch, text, message):
    path = tmp_path / "results-imagenet.csv"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(path))
    with pytest.raises(UserError, match=message):
        published_imagenet_top1("timm:resnet50.a1_in1k")


# timm's own table where it is at hand: the cache a connected run downloads into (at the
# repository's root), or the copy $CIFAR_ZEROSHOT_TIMM_RESULTS names where the tests run.
_REPOSITORY = Path(__file__).parents[2]
REAL_TABLES = [
    _REPOSITORY / TIMM_RESULTS.cache,
    *([Path(os.environ[TIMM_RESULTS_VARIABLE])] if os.environ.get(TIMM_RESULTS_VARIABLE) else []),
]
REAL_TABLE = next(
    (
        path
        for path in REAL_TABLES
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == TIMM_RESULTS.sha256
    ),
    None,
)


@pytest.mark.skipif(REAL_TABLE is None, reason="timm's pinned results-imagenet.csv is not at hand")
def test_timms_real_table_gives_resnet50_a1_its_published_top1(monkeypatch):
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(REAL_TABLE))
    table = read_timm_results(REAL_TABLE)
    assert REAL_TABLE.stat().st_size == TIMM_RESULTS.size
    assert len(table) > 1000
    # timm's model card for resnet50.a1_in1k: top-1 80.4 at 224, 25.6 M parameters.
    assert published_imagenet_top1("timm:resnet50.a1_in1k") == pytest.approx(0.804, abs=0.001)
    assert published_params_m("timm:resnet50.a1_in1k") == pytest.approx(25.56)
    assert all(0 < result.top1 < 1 and result.params_m > 0 for result in table.values())
