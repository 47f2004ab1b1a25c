"""The default class mapping checked against WordNet and a published WordNet-derived mapping.

The WordNet facts are in the repository (tests/mapping/imagenet_wordnet, source and licence in its
SOURCES.md), so that check runs on every clone. The published mapping is reference data beside
the repository (../shared/data), compared where it is present.
"""

import json

import pytest
from workflow_runner import REPO

from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.mapping.definition import ClassMapping
from cifar_zeroshot.mapping.imagenet_classes import imagenet_categories

SHARED = REPO.parent / "shared" / "data"
REFERENCE_JSON = SHARED / "reference-mappings" / "wordnet-derived-imagenet1k-to-cifar10.json"
WORDNET = REPO / "tests" / "mapping" / "imagenet_wordnet" / "imagenet_ancestors.tsv"


@pytest.mark.skipif(not REFERENCE_JSON.exists(), reason="../shared reference mapping absent")
def test_default_matches_reference_json(default_mapping: ClassMapping) -> None:
    reference = json.loads(REFERENCE_JSON.read_text(encoding="utf-8"))
    categories = imagenet_categories()
    assert list(reference) == list(CIFAR10_CLASSES)
    for mapped in default_mapping.classes:
        assert sorted(mapped.indices) == sorted(m["index"] for m in reference[mapped.name])
        # Names are torchvision's (the reference says "crane" for 134, torchvision "crane bird").
        assert list(mapped.names) == [categories[i] for i in mapped.indices]


def _wordnet_ancestors() -> tuple[list[str], dict[str, set[str]]]:
    """ImageNet wnids in class-index order; each wnid's closure (itself and every ancestor)."""
    synsets: list[str] = []
    closure: dict[str, set[str]] = {}
    for line in WORDNET.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        index, wnid, ancestors = line.split("\t")
        assert int(index) == len(synsets), "imagenet_ancestors.tsv is not in class-index order"
        synsets.append(wnid)
        closure[wnid] = {wnid, *ancestors.split()}
    return synsets, closure


def test_members_descend_from_named_ancestors(default_mapping: ClassMapping) -> None:
    synsets, closure = _wordnet_ancestors()
    assert len(synsets) == 1000
    for mapped in default_mapping.classes:
        named = {a.wnid for a in mapped.ancestors}
        assert named, f"{mapped.name} names no WordNet ancestor"
        excluded = {e.index for e in mapped.excluded}
        for index in mapped.indices:
            assert closure[synsets[index]] & named, f"{mapped.name}: {index} not under {named}"
        assert not excluded & set(mapped.indices)
        # Members + excluded = every ImageNet class under the ancestors: nothing dropped silently.
        under = {i for i, wnid in enumerate(synsets) if closure[wnid] & named}
        assert set(mapped.indices) | excluded == under, mapped.name
