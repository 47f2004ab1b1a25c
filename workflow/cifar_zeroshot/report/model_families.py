"""Bounded groups for a legend: figures of many runs colour points by architecture family
(models/architecture_family.py) rather than one colour per model, which repeats after ten; the
commonest families keep their names and the rest are "other"."""

from collections import Counter
from collections.abc import Iterable

OTHER = "other"


def bounded_groups(names: Iterable[str], most: int) -> dict[str, str]:
    """Each name -> itself if it is among the ``most`` commonest names (ties: first seen),
    else ``other``; at most ``most`` + 1 groups, so a legend stays short at any number of runs.
    Where only one name would be left over it keeps its own name (no "other" of one)."""
    counts = Counter(names)
    ranked = [name for name, _ in counts.most_common()]
    kept = set(ranked[:most] if len(ranked) > most + 1 else ranked)
    return {name: name if name in kept else OTHER for name in counts}


def group_order(groups: dict[str, str]) -> list[str]:
    """The groups of ``bounded_groups`` in legend order: by name, ``other`` last."""
    unique = sorted(set(groups.values()) - {OTHER})
    return unique + ([OTHER] if OTHER in groups.values() else [])
