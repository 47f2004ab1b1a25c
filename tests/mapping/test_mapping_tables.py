"""Tests for cifar_zeroshot.mapping.tables: the class mapping's CSV files, written and read."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_runner import DEFAULT_MAPPING_FILE

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.mapping.definition import ClassMapping
from cifar_zeroshot.mapping.tables import (
    check_mapping_matches,
    read_mapping_csv,
    write_mapping_csv,
    write_mapping_summary,
)

COLUMNS = ["cifar_class", "imagenet_index", "imagenet_name"]


def test_mapping_csv(tmp_path: Path, default_mapping: ClassMapping) -> None:
    path = tmp_path / "out" / "class_mapping.csv"
    write_mapping_csv(default_mapping, path)
    table = pd.read_csv(path)
    assert list(table.columns[:3]) == ["cifar_class", "imagenet_index", "imagenet_name"]
    assert len(table) == 222
    assert table["imagenet_index"].is_unique
    horse = table[table["cifar_class"] == "horse"]
    assert horse[["imagenet_index", "imagenet_name"]].values.tolist() == [[339, "sorrel"]]
    assert (table["cifar_label"] == table["cifar_class"].map(CIFAR10_CLASSES.index)).all()
    assert sorted(p.name for p in path.parent.iterdir()) == ["class_mapping.csv"]


def test_mapping_summary(tmp_path: Path, default_mapping: ClassMapping) -> None:
    path = tmp_path / "summary.csv"
    write_mapping_summary(default_mapping, path)
    table = pd.read_csv(path, keep_default_na=False)
    assert list(table.columns) == ["cifar_class", "members", "ancestor", "warning"]
    assert table["cifar_class"].tolist() == list(CIFAR10_CLASSES)
    assert table["members"].sum() == 222
    rows = table.set_index("cifar_class")
    assert "n02419796" in rows.loc["deer", "ancestor"]
    assert "sorrel" in rows.loc["horse", "warning"]
    assert rows.loc["dog", "warning"] == ""


def test_failed_write_leaves_no_partial_file(
    tmp_path: Path, default_mapping: ClassMapping, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = open

    class FullDisk:
        """A file that takes the first line, then fails as a full disk does."""

        def __init__(self, *args, **kwargs) -> None:
            self.handle = real_open(*args, **kwargs)

        def __enter__(self) -> "FullDisk":
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

        def write(self, text: str) -> None:
            self.handle.write(text.splitlines(keepends=True)[0])
            raise OSError("disk full")

    monkeypatch.setattr("cifar_zeroshot.core.csv_output.open", FullDisk, raising=False)
    path = tmp_path / "class_mapping.csv"
    with pytest.raises(OSError, match="disk full"):
        write_mapping_csv(default_mapping, path)
    assert list(tmp_path.iterdir()) == []


def _write_rows(path: Path, rows: list[tuple[str, int, str]]) -> Path:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


# The ImageNet names' own check (all_imagenet_names) is in tests/mapping/test_imagenet_classes.py.
def test_read_mapping_csv(tmp_path: Path) -> None:
    path = tmp_path / "class_mapping.csv"
    rows = [(name, 10 * k, f"n{10 * k}") for k, name in enumerate(CIFAR10_CLASSES)]
    rows += [("cat", 31, "n31")]
    groups, names = read_mapping_csv(_write_rows(path, rows))
    assert [g.tolist() for g in groups][3] == [30, 31]
    assert names[31] == "n31" and len(groups) == 10
    _write_rows(path, rows[:-2])
    with pytest.raises(UserError, match="no ImageNet classes for 'truck'"):
        read_mapping_csv(path)


def test_read_mapping_csv_reads_what_write_mapping_csv_wrote(
    tmp_path: Path, default_mapping: ClassMapping
) -> None:
    path = tmp_path / "class_mapping.csv"
    write_mapping_csv(default_mapping, path)
    groups, names = read_mapping_csv(path)
    assert [g.dtype for g in groups] == [np.dtype(np.int64)] * 10
    expected = default_mapping.index_groups()
    assert [g.tolist() for g in groups] == [sorted(g.tolist()) for g in expected]
    mapped = default_mapping.classes
    assert names == {i: n for c in mapped for i, n in zip(c.indices, c.names, strict=True)}


@pytest.mark.parametrize(
    ("rows", "columns", "fact"),
    [
        (None, None, "does not exist"),
        ([("cat", 1)], ["cifar_class", "imagenet_index"], "lacks columns imagenet_name"),
        ([("lion", 1, "x")], COLUMNS, "unknown CIFAR-10 classes ['lion']"),
        ([("cat", 1000, "x")], COLUMNS, "outside 0..999"),
        ([("cat", -1, "x")], COLUMNS, "outside 0..999"),
        ([("cat", 1, "x"), ("dog", 1, "x")], COLUMNS, "lists an ImageNet class twice"),
    ],
)
def test_read_mapping_csv_refuses_a_broken_table(
    tmp_path: Path, rows: list | None, columns: list[str] | None, fact: str
) -> None:
    path = tmp_path / "class_mapping.csv"
    if rows is not None:
        pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    with pytest.raises(UserError) as caught:
        read_mapping_csv(path)
    assert fact in str(caught.value) and str(path) in str(caught.value)


def _edited_csv(path: Path, mapping: ClassMapping, edit) -> tuple[list[np.ndarray], dict]:
    write_mapping_csv(mapping, path)
    edit(pd.read_csv(path)).to_csv(path, index=False)
    return read_mapping_csv(path)


def test_the_csv_written_from_the_yaml_matches_it(
    tmp_path: Path, default_mapping: ClassMapping
) -> None:
    path = tmp_path / "class_mapping.csv"
    groups, names = _edited_csv(path, default_mapping, lambda table: table)
    check_mapping_matches(path, groups, names, default_mapping)


def _move_tabby_to_dog(table: pd.DataFrame) -> pd.DataFrame:
    table.loc[table["imagenet_index"] == 281, "cifar_class"] = "dog"
    return table


def _rename_tabby(table: pd.DataFrame) -> pd.DataFrame:
    table.loc[table["imagenet_index"] == 281, "imagenet_name"] = "tiger cat"
    return table


def _drop_six_members(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(index=table.index[table["cifar_class"] == "dog"][:6])


@pytest.mark.parametrize(
    ("edit", "found"),
    [
        (
            _move_tabby_to_dog,
            "cat lacks ImageNet [281] of the YAML; dog has ImageNet [281] only in the CSV",
        ),
        (_rename_tabby, "ImageNet 281 is 'tiger cat' in the CSV, 'tabby' in the YAML"),
        (_drop_six_members, "dog lacks ImageNet [151, 152, 153, 154, 155, 156] of the YAML"),
    ],
)
def test_a_hand_edited_csv_is_refused_naming_what_differs(
    tmp_path: Path, default_mapping: ClassMapping, edit, found: str
) -> None:
    path = tmp_path / "class_mapping.csv"
    groups, names = _edited_csv(path, default_mapping, edit)
    with pytest.raises(UserError) as caught:
        check_mapping_matches(path, groups, names, default_mapping)
    assert str(caught.value) == (
        f"{path} does not match the class mapping {DEFAULT_MAPPING_FILE}: {found}. "
        "It was edited by hand or comes from another mapping file. Fix: delete "
        f"{path} and rerun snakemake (or rerun with `snakemake --forcerun class_mapping`); "
        f"change the mapping in {DEFAULT_MAPPING_FILE}, not in the CSV."
    )


def test_many_differences_are_counted_not_listed(
    tmp_path: Path, default_mapping: ClassMapping
) -> None:
    def rename_five(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[table.index[:5], "imagenet_name"] = "renamed"
        return table

    path = tmp_path / "class_mapping.csv"
    groups, names = _edited_csv(path, default_mapping, rename_five)
    with pytest.raises(UserError, match=r"'renamed' in the CSV, .*; and 2 more\. It was edited"):
        check_mapping_matches(path, groups, names, default_mapping)
