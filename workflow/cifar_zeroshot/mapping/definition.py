"""The ImageNet-1k -> CIFAR-10 class mapping as checked data, and its warnings."""

from dataclasses import dataclass

import numpy as np

from cifar_zeroshot.core.labels import CIFAR10_CLASSES, NUM_IMAGENET_CLASSES

__all__ = [
    "Ancestor",
    "ClassMapping",
    "Exclusion",
    "MappedClass",
    "class_warning",
    "mapping_description",
    "mapping_warnings",
]


@dataclass(frozen=True)
class Ancestor:
    """A WordNet synset a class's members were derived from (documentation only)."""

    wnid: str
    lemma: str


@dataclass(frozen=True)
class Exclusion:
    """A descendant of the ancestors deliberately left out of a class (documentation only)."""

    index: int
    name: str
    reason: str


@dataclass(frozen=True)
class MappedClass:
    """One CIFAR-10 class and the ImageNet-1k classes pooled for it."""

    name: str
    label: int
    indices: tuple[int, ...]
    names: tuple[str, ...]
    ancestors: tuple[Ancestor, ...] = ()
    note: str = ""
    excluded: tuple[Exclusion, ...] = ()


@dataclass(frozen=True)
class ClassMapping:
    """All ten CIFAR-10 classes in label order; ``source`` is the file it was read from."""

    classes: tuple[MappedClass, ...]
    source: str = ""

    def __post_init__(self) -> None:
        names = tuple(c.name for c in self.classes)
        if names != CIFAR10_CLASSES or any(c.label != i for i, c in enumerate(self.classes)):
            raise ValueError(f"classes must be the CIFAR-10 classes in label order, got {names}")

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    @property
    def member_count(self) -> int:
        """Total number of ImageNet classes mapped (222 for the default mapping)."""
        return sum(len(c.indices) for c in self.classes)

    def index_groups(self) -> list[np.ndarray]:
        """Per CIFAR-10 class (label order), its ImageNet indices as an int64 array."""
        return [np.asarray(c.indices, dtype=np.int64) for c in self.classes]

    def imagenet_to_cifar(self) -> np.ndarray:
        """Length-1000 int64 array: the CIFAR-10 label of each ImageNet class, -1 if unmapped."""
        lookup = np.full(NUM_IMAGENET_CLASSES, -1, dtype=np.int64)
        for mapped in self.classes:
            lookup[list(mapped.indices)] = mapped.label
        return lookup


def class_warning(mapped: MappedClass) -> str:
    """Why this class's score is fragile, or "" if it is not (it pools several classes)."""
    if len(mapped.indices) != 1:
        return ""
    return (
        f"{mapped.name} has only one ImageNet class ({mapped.names[0]!r}, index "
        f"{mapped.indices[0]}): its score rests on that single class"
    )


def mapping_warnings(mapping: ClassMapping) -> list[str]:
    """One line per CIFAR-10 class that pools a single ImageNet class."""
    return [w for w in map(class_warning, mapping.classes) if w]


def mapping_description(mapping: ClassMapping) -> list[str]:
    """One line per CIFAR-10 class: how many ImageNet classes it pools, and under which synsets."""
    lines = []
    for mapped in mapping.classes:
        ancestors = ", ".join(f"{a.wnid} ({a.lemma.split(',')[0]})" for a in mapped.ancestors)
        count = len(mapped.indices)
        lines.append(
            f"{mapped.label} {mapped.name}: pools {count} ImageNet "
            + ("class" if count == 1 else "classes")
            + (f" under {ancestors}" if ancestors else "")
        )
    return lines
