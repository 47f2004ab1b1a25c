"""open_clip's names as the cache holds them: equal to open_clip's own, and never believed when
the cache is damaged or lacks a name."""

import json

import open_clip
import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.clip import catalog as catalog_module
from cifar_zeroshot.models.clip.catalog import clip_catalog
from cifar_zeroshot.models.clip.names import ClipSpec, check_clip_spec


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_ZEROSHOT_CACHE", str(tmp_path))
    monkeypatch.setattr(catalog_module.CATALOG, "loaded", None)
    return tmp_path


def test_the_catalog_holds_open_clips_names(cache):
    found = clip_catalog()
    assert found.pretrained == [tuple(pair) for pair in open_clip.list_pretrained()]
    assert found.architectures == open_clip.list_models()
    assert found.tags("ViT-B-32") == open_clip.list_pretrained_tags_by_model("ViT-B-32")
    assert len(list(cache.glob("open_clip-*-names.json"))) == 1
    catalog_module.CATALOG.loaded = None
    assert clip_catalog() == found  # read back from the file


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: {**raw, "open_clip": "0.0.1"},  # another version
        lambda raw: {**raw, "pretrained": [["ViT-B-32"]]},  # a pair cut short
        lambda raw: {key: value for key, value in raw.items() if key != "hf_text"},
        lambda raw: [raw],
    ],
)
def test_a_damaged_cache_is_rebuilt(cache, damage):
    clip_catalog()
    (path,) = cache.glob("open_clip-*-names.json")
    path.write_text(json.dumps(damage(json.loads(path.read_text()))))
    catalog_module.CATALOG.loaded = None
    assert clip_catalog().pretrained == [tuple(pair) for pair in open_clip.list_pretrained()]
    assert json.loads(path.read_text())["open_clip"] != "0.0.1"


def test_a_name_the_cache_lacks_is_looked_up_in_open_clip_before_it_is_refused(cache):
    clip_catalog()
    (path,) = cache.glob("open_clip-*-names.json")
    raw = json.loads(path.read_text())
    raw["pretrained"] = [pair for pair in raw["pretrained"] if pair[0] != "ViT-B-32"]
    path.write_text(json.dumps(raw))
    catalog_module.CATALOG.loaded = None
    check_clip_spec(ClipSpec("ViT-B-32", "openai"), "none")  # found in open_clip itself
    with pytest.raises(UserError, match="unknown architecture 'ViT-B-99'"):
        check_clip_spec(ClipSpec("ViT-B-99", "openai"), "none")
