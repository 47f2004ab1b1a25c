"""The class mapping as CSV tables: results/class_mapping.csv (written and read) and its summary."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from cifar_zeroshot.core.csv_output import write_csv
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES, NUM_IMAGENET_CLASSES
from cifar_zeroshot.mapping.definition import ClassMapping, MappedClass, class_warning

__all__ = [
    "MAPPING_CSV_COLUMNS",
    "SUMMARY_CSV_COLUMNS",
    "check_mapping_matches",
    "read_mapping_csv",
    "write_mapping_csv",
    "write_mapping_summary",
]

log = logging.getLogger(__name__)

MAPPING_CSV_COLUMNS = ("cifar_class", "imagenet_index", "imagenet_name", "cifar_label")
SUMMARY_CSV_COLUMNS = ("cifar_class", "members", "ancestor", "warning")


def _ancestor_text(mapped: MappedClass) -> str:
    return "; ".join(f"{a.lemma.split(',')[0].strip()} ({a.wnid})" for a in mapped.ancestors)


def write_mapping_csv(mapping: ClassMapping, path: str | Path) -> None:
    """One row per mapped ImageNet class: cifar_class, imagenet_index, imagenet_name, label."""
    rows = [
        (c.name, index, name, c.label)
        for c in mapping.classes
        for index, name in zip(c.indices, c.names, strict=True)
    ]
    write_csv(pd.DataFrame(rows, columns=list(MAPPING_CSV_COLUMNS)), path)


def write_mapping_summary(mapping: ClassMapping, path: str | Path) -> None:
    """One row per CIFAR-10 class: cifar_class, members, ancestor, warning (empty if none)."""
    rows = [(c.name, len(c.indices), _ancestor_text(c), class_warning(c)) for c in mapping.classes]
    write_csv(pd.DataFrame(rows, columns=list(SUMMARY_CSV_COLUMNS)), path)


def read_mapping_csv(path: str | Path) -> tuple[list[np.ndarray], dict[int, str]]:
    """Groups (per CIFAR-10 class, label order) and index -> name from results/class_mapping.csv."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist. Run snakemake to build the class mapping.")
    frame = pd.read_csv(path)
    missing = {"cifar_class", "imagenet_index", "imagenet_name"} - set(frame.columns)
    if missing:
        raise UserError(
            f"{path} lacks columns {', '.join(sorted(missing))}. Delete it and rerun snakemake."
        )
    unknown = sorted(set(frame["cifar_class"]) - set(CIFAR10_CLASSES))
    if unknown:
        raise UserError(
            f"{path} names unknown CIFAR-10 classes {unknown}. Delete it and rerun snakemake."
        )
    index = frame["imagenet_index"].to_numpy()
    if len(index) and (index.min() < 0 or index.max() >= NUM_IMAGENET_CLASSES):
        raise UserError(f"{path} has ImageNet indices outside 0..999. Delete it and rerun.")
    if frame["imagenet_index"].duplicated().any():
        raise UserError(f"{path} lists an ImageNet class twice. Delete it and rerun snakemake.")
    groups = []
    for name in CIFAR10_CLASSES:
        members = np.sort(frame.loc[frame["cifar_class"] == name, "imagenet_index"].to_numpy())
        if len(members) == 0:
            raise UserError(
                f"{path} has no ImageNet classes for {name!r}: give it at least one member in "
                "config/class_mapping.yaml and rerun snakemake."
            )
        groups.append(members.astype(np.int64))
    names = dict(
        zip(frame["imagenet_index"].astype(int), frame["imagenet_name"].astype(str), strict=True)
    )
    log.info("read %d mapped ImageNet classes from %s", len(names), path)
    return groups, names


def _differences(
    groups: list[np.ndarray], names: dict[int, str], mapping: ClassMapping
) -> list[str]:
    """How the CSV's groups and names differ from the mapping's, one phrase per difference."""
    found: list[str] = []
    for group, mapped in zip(groups, mapping.classes, strict=True):
        in_csv, in_yaml = set(group.tolist()), set(mapped.indices)
        if in_csv - in_yaml:
            found.append(f"{mapped.name} has ImageNet {sorted(in_csv - in_yaml)} only in the CSV")
        if in_yaml - in_csv:
            found.append(f"{mapped.name} lacks ImageNet {sorted(in_yaml - in_csv)} of the YAML")
    for mapped in mapping.classes:
        for index, name in zip(mapped.indices, mapped.names, strict=True):
            if names.get(index, name) != name:
                found.append(
                    f"ImageNet {index} is {names[index]!r} in the CSV, {name!r} in the YAML"
                )
    return found


def check_mapping_matches(
    path: str | Path, groups: list[np.ndarray], names: dict[int, str], mapping: ClassMapping
) -> None:
    """The CSV's groups and names (read_mapping_csv) are those of its YAML, else a UserError.

    Metrics read the CSV; a hand edit of it, or a CSV left from another mapping file, would
    otherwise score under a mapping the configuration does not name.
    """
    found = _differences(groups, names, mapping)
    if found:
        shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
        raise UserError(
            f"{path} does not match the class mapping {mapping.source}: {shown}. It was edited "
            f"by hand or comes from another mapping file. Fix: delete {path} and rerun "
            "snakemake (or rerun with `snakemake --forcerun class_mapping`); change the "
            f"mapping in {mapping.source}, not in the CSV."
        )
