"""timm's published results table, downloaded at planning (config.published_tables), over
loopback HTTP: only when the models need it, verified by its SHA-256, into its cache; a file in
the cache is used without network, a user's own copy is never downloaded over, and every
failure is a warning naming the file to place, its source and its SHA-256."""

import hashlib
from pathlib import Path

import pytest
from loopback_http import ServerBehaviour, serve_folder

from cifar_zeroshot.config.published_tables import fetch_timm_results, timm_results_needed
from cifar_zeroshot.models.timm.published import (
    TIMM_RESULTS_VARIABLE,
    PinnedTable,
    read_timm_results,
    table_unavailable,
)

# Rows as timm's results/results-imagenet.csv writes them (a thousands comma included).
TABLE = b"""model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation
eva_giant_patch14_560.m30m_ft_in22k_in1k,560,89.790,10.210,98.990,1.010,"1,014.45",1.000,bicubic
resnet50.a1_in1k,224,80.382,19.618,94.612,5.388,25.56,0.950,bicubic
"""
NAME = "results-imagenet.csv"
NEEDS_IT = {"models": ["alexnet", "timm:resnet50.a1_in1k"], "weights": "DEFAULT"}
CONSEQUENCE = "timm's published ImageNet-1k top-1 of the planned timm models is unknown"


@pytest.fixture
def served(tmp_path: Path) -> Path:
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / NAME).write_bytes(TABLE)
    return folder


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory, where the cache's relative path lands; no own copy named."""
    folder = tmp_path / "workdir"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv(TIMM_RESULTS_VARIABLE, raising=False)
    return folder


def _pinned(url: str, data: bytes = TABLE) -> PinnedTable:
    return PinnedTable(
        url,
        hashlib.sha256(data).hexdigest(),
        len(data),
        Path("data/published/timm-results-imagenet.csv"),
    )


@pytest.mark.parametrize(
    ("models", "weights", "needed"),
    [
        (["alexnet", "timm:resnet50.a1_in1k"], "DEFAULT", True),
        (["timm:test_vit.r160_in1k"], "none", False),  # untrained: no published top-1
        ([{"name": "timm:resnet50.a1_in1k", "weights": "none"}], "DEFAULT", False),
        ([{"name": "timm:resnet50.a1_in1k", "weights": "DEFAULT"}], "none", True),
        ([{"name": "timm:resnet18.a1_in1k", "weights_file": "w.safetensors"}], "DEFAULT", False),
        (["timm:resnet*.a1_in1k"], "DEFAULT", True),
        (["timm:resnet*.a1_in1k"], "none", False),
        ([{"collection": "timm:test_*", "max_params_m": 1}], "none", True),  # parameters
        ([{"collection": "timm:test_*", "weights": "DEFAULT"}], "none", True),
        (
            ["alexnet", "torchvision:all", {"collection": "torchvision:*", "max_params_m": 4}],
            "DEFAULT",
            False,
        ),
        (["clip:ViT-B-32/openai"], "DEFAULT", False),
    ],
)
def test_the_table_is_needed_only_for_trained_timm_models_or_their_parameters(
    models, weights, needed
):
    assert timm_results_needed(models, weights) is needed


def test_planning_downloads_the_table_into_its_cache(served, workdir):
    behaviour = ServerBehaviour()
    with serve_folder(served, behaviour) as base:
        pinned = _pinned(f"{base}/{NAME}")
        fetched = fetch_timm_results(NEEDS_IT, pinned)
        assert fetched is not None and fetched.level == "NOTE"
        assert fetched.text == (
            f"downloaded timm's published results table from {pinned.url} into {pinned.cache}"
        )
        assert (workdir / pinned.cache).read_bytes() == TABLE
        assert [p.name for p in (workdir / pinned.cache).parent.iterdir()] == [pinned.cache.name]
        assert table_unavailable(pinned) is None
        assert read_timm_results(pinned.cache)["resnet50.a1_in1k"].params_m == 25.56
        # Once there, it is used as it is: no second request.
        assert fetch_timm_results(NEEDS_IT, pinned) is None
    assert behaviour.requests == [f"/{NAME}"]


def test_nothing_is_downloaded_where_no_model_needs_it(served, workdir):
    behaviour = ServerBehaviour()
    with serve_folder(served, behaviour) as base:
        untrained = {"models": ["timm:test_vit.r160_in1k", "alexnet"], "weights": "none"}
        assert fetch_timm_results(untrained, _pinned(f"{base}/{NAME}")) is None
    assert behaviour.requests == []
    assert not (workdir / "data").exists()


def test_a_file_placed_in_the_cache_by_hand_is_used_without_network(served, workdir):
    behaviour = ServerBehaviour()
    with serve_folder(served, behaviour) as base:
        pinned = _pinned(f"{base}/{NAME}")
        (workdir / pinned.cache).parent.mkdir(parents=True)
        (workdir / pinned.cache).write_bytes(TABLE)
        assert fetch_timm_results(NEEDS_IT, pinned) is None
    assert behaviour.requests == []


def test_a_wrong_sha256_is_refused_and_leaves_nothing(served, workdir):
    with serve_folder(served) as base:
        pinned = _pinned(f"{base}/{NAME}", data=TABLE + b"another row\n")
        fetched = fetch_timm_results(NEEDS_IT, pinned, retries=0)
    assert fetched is not None and fetched.level == "WARNING"
    assert fetched.text.startswith(f"{CONSEQUENCE} (empty in the leaderboard)")
    assert f"Downloaded {pinned.url} but it is not the expected file" in fetched.text
    assert f"put it at {pinned.cache}" in fetched.text and pinned.sha256 in fetched.text
    assert list((workdir / pinned.cache).parent.iterdir()) == []  # no table, no temporary file
    assert table_unavailable(pinned) is not None


def test_a_cached_file_with_another_sha256_is_downloaded_again(served, workdir):
    with serve_folder(served) as base:
        pinned = _pinned(f"{base}/{NAME}")
        (workdir / pinned.cache).parent.mkdir(parents=True)
        (workdir / pinned.cache).write_bytes(TABLE.replace(b"80.382", b"99.999"))
        assert "is not the pinned file" in table_unavailable(pinned)
        fetched = fetch_timm_results(NEEDS_IT, pinned)
    assert fetched is not None and fetched.level == "NOTE"
    assert (workdir / pinned.cache).read_bytes() == TABLE


def test_offline_the_warning_names_the_file_to_place_its_source_and_sha256(workdir):
    # Nothing listens on port 9 (discard) of loopback: the connection is refused.
    pinned = _pinned(f"http://127.0.0.1:9/{NAME}")
    fetched = fetch_timm_results(NEEDS_IT, pinned, retries=0)
    assert fetched is not None and fetched.level == "WARNING"
    text = fetched.text
    assert text.startswith(f"{CONSEQUENCE} (empty in the leaderboard), and max_params_m cannot")
    assert f"Could not download {pinned.url} (" in text
    assert f"download {pinned.url} ({len(TABLE):,} bytes, SHA-256 {pinned.sha256})" in text
    assert f"put it at {pinned.cache}" in text and f"${TIMM_RESULTS_VARIABLE}" in text
    assert not (workdir / pinned.cache).exists()


def test_a_users_own_copy_is_never_downloaded_over(served, workdir, monkeypatch):
    behaviour = ServerBehaviour()
    own = workdir / "my-timm-results.csv"
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(own))
    with serve_folder(served, behaviour) as base:
        fetched = fetch_timm_results(NEEDS_IT, _pinned(f"{base}/{NAME}"))
        assert fetched is not None and fetched.level == "WARNING"
        assert f"{own} (named by ${TIMM_RESULTS_VARIABLE}), which is absent" in fetched.text
        own.write_bytes(TABLE.replace(b"80.382", b"80.5"))  # another version: read unchecked
        assert fetch_timm_results(NEEDS_IT, _pinned(f"{base}/{NAME}")) is None
    assert behaviour.requests == []
    assert not (workdir / "data").exists()
