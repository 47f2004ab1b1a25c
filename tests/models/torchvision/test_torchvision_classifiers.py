"""Model names, weights choices, and weights loading through torchvision's real cache path."""

import os
from pathlib import Path

import pytest
import torch
import torchvision
from planted_files import offline_torch_hub, plant_payload, publish_under_own_hash
from torchvision.models import AlexNet_Weights, ResNet50_Weights, SqueezeNet1_1_Weights

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.torchvision.catalog import (
    check_model_name,
    classification_model_names,
)
from cifar_zeroshot.models.torchvision.classifiers import (
    cached_weights_path,
    load_model,
    resolve_weights,
    weights_label,
)


@pytest.fixture
def hub_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch hub cache; downloads fail as they would offline."""
    return offline_torch_hub(tmp_path, monkeypatch)


def test_classification_names_are_torchvision_classifiers() -> None:
    names = classification_model_names()
    assert {"resnet50", "alexnet", "vgg16", "squeezenet1_1"} <= set(names)
    assert "fasterrcnn_resnet50_fpn" not in names
    assert check_model_name("resnet50") == "resnet50"


@pytest.mark.parametrize("name", ["../x", "a/b", "", "A B", "resnet50;rm"])
def test_names_that_could_escape_the_results_folder_are_refused(name: str) -> None:
    with pytest.raises(UserError, match="escape the results folder.*torchvision model name"):
        check_model_name(name)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("fasterrcnn_resnet50_fpn", "detection"),
        ("fcn_resnet50", "segmentation"),
        ("raft_small", "optical-flow"),
        ("r3d_18", "video"),
    ],
)
def test_non_classification_models_are_named_as_such(name: str, kind: str) -> None:
    with pytest.raises(UserError, match=f"{kind}.*not a classification model"):
        check_model_name(name)


def test_unknown_name_lists_close_matches_and_where_to_see_all() -> None:
    with pytest.raises(UserError, match="resnet50") as caught:
        check_model_name("resnet05")
    assert "list_models" in str(caught.value)
    with pytest.raises(UserError, match="Did you mean.*resnet50"):
        check_model_name("ResNet50")


def test_resolve_weights_accepts_every_spelling() -> None:
    assert resolve_weights("resnet50", "DEFAULT") is ResNet50_Weights.IMAGENET1K_V2
    assert resolve_weights("resnet50", "IMAGENET1K_V1") is ResNet50_Weights.IMAGENET1K_V1
    full = "ResNet50_Weights.IMAGENET1K_V1"
    assert resolve_weights("resnet50", full) is ResNet50_Weights.IMAGENET1K_V1
    assert resolve_weights("resnet50", "none") is None
    assert weights_label(resolve_weights("resnet50", "DEFAULT")) == "ResNet50_Weights.IMAGENET1K_V2"
    assert weights_label(None) == "none"


@pytest.mark.parametrize("weights", ["IMAGENET1K_V9", "AlexNet_Weights.IMAGENET1K_V1", "latest"])
def test_unknown_weights_list_the_allowed_names(weights: str) -> None:
    with pytest.raises(UserError, match="IMAGENET1K_V1, IMAGENET1K_V2, none") as caught:
        resolve_weights("resnet50", weights)
    assert repr(weights) in str(caught.value)


def test_the_published_file_loads_from_the_hub_cache(
    hub_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = resolve_weights("squeezenet1_1", "DEFAULT")
    assert cached_weights_path(weights) == (
        hub_dir / "checkpoints" / os.path.basename(SqueezeNet1_1_Weights.IMAGENET1K_V1.url)
    )
    torch.manual_seed(1)
    saved = torchvision.models.squeezenet1_1().state_dict()
    torch.save(saved, tmp_path / "weights.pth")
    path = publish_under_own_hash(weights, tmp_path / "weights.pth", monkeypatch)
    assert cached_weights_path(weights) == path

    model = load_model("squeezenet1_1", weights)

    assert not model.training
    loaded = model.state_dict()
    assert loaded.keys() == saved.keys()
    for key, value in saved.items():
        assert torch.equal(loaded[key], value), key
    # The builder was handed the weights for this one call only.
    assert "get_state_dict" not in vars(weights)


def test_a_pickle_under_a_published_name_is_refused_before_it_is_read(
    hub_dir: Path, tmp_path: Path
) -> None:
    """The issue's case: code planted as alexnet's weights file, with models=[alexnet]."""
    weights = resolve_weights("alexnet", "DEFAULT")
    path = plant_payload(hub_dir / "checkpoints" / "alexnet-owt-7be5be79.pth", tmp_path / "ran")
    assert cached_weights_path(weights) == path and weights is AlexNet_Weights.IMAGENET1K_V1
    with pytest.raises(UserError) as caught:
        load_model("alexnet", weights)
    assert not (tmp_path / "ran").exists()
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert "but its published name says 7be5be79" in message
    assert "not loaded: delete it to download it again" in message


def test_a_pickle_named_by_its_own_hash_is_refused_by_the_weights_only_loader(
    hub_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose hash prefix was forged to match its name still never runs."""
    weights = SqueezeNet1_1_Weights.IMAGENET1K_V1
    planted = plant_payload(tmp_path / "planted.pth", tmp_path / "ran")
    path = publish_under_own_hash(weights, planted, monkeypatch)
    with pytest.raises(UserError) as caught:
        load_model("squeezenet1_1", weights)
    assert not (tmp_path / "ran").exists()
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "delete it" in message
    assert "weights-only loader refused it: Unsupported global" in message


def test_missing_weights_without_network_says_which_file_to_place_where(hub_dir: Path) -> None:
    weights = SqueezeNet1_1_Weights.IMAGENET1K_V1
    expected = hub_dir / "checkpoints" / os.path.basename(weights.url)
    with pytest.raises(UserError, match="place it at") as caught:
        load_model("squeezenet1_1", weights)
    message = str(caught.value)
    assert str(expected) in message
    assert weights.url in message
    assert not expected.exists()


def test_damaged_cached_file_is_reported_with_the_fix(hub_dir: Path) -> None:
    weights = SqueezeNet1_1_Weights.IMAGENET1K_V1
    path = cached_weights_path(weights)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="delete it to download it again") as caught:
        load_model("squeezenet1_1", weights)
    assert str(path) in str(caught.value)


def test_untrained_model_needs_no_file_and_is_repeatable(hub_dir: Path) -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = load_model("squeezenet1_1", None)
    assert torch.equal(torch.rand(3), expected_next)  # the caller's random stream is untouched
    second = load_model("squeezenet1_1", None)
    assert not first.training
    for (key, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), key
    assert not (hub_dir / "checkpoints").exists()


@pytest.mark.parametrize(
    "weights", ["DEFAULT", "IMAGENET1K_V1", "ResNet50_Weights.IMAGENET1K_V2", "none", "NONE"]
)
def test_the_catalog_resolves_weights_as_torchvision_does(weights: str) -> None:
    from cifar_zeroshot.models.torchvision.catalog import resolved_weights_label

    expected = weights_label(resolve_weights("resnet50", weights))
    assert resolved_weights_label("resnet50", weights) == expected


def test_planning_reads_names_from_the_cache_without_importing_torch(tmp_path: Path) -> None:
    import subprocess
    import sys

    check = (
        "import sys; "
        "from cifar_zeroshot.models.torchvision.catalog import resolved_weights_label as label; "
        "print(label('resnet50', 'DEFAULT'), 'torch' in sys.modules)"
    )
    env = {**os.environ, "CIFAR_ZEROSHOT_CACHE": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    # The first run reads torchvision (and caches it); the second reads only the cache.
    assert runs == [
        ["ResNet50_Weights.IMAGENET1K_V2", "True"],
        ["ResNet50_Weights.IMAGENET1K_V2", "False"],
    ]
    assert len(list(tmp_path.glob("torchvision-*-models.json"))) == 1
