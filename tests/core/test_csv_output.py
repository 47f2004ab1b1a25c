"""cifar_zeroshot.core.csv_output: CSV files that record their rows' digest."""

import numpy as np
import pandas as pd
import pytest

from cifar_zeroshot.core.csv_output import read_recorded_csv, write_csv, write_recorded_csv
from cifar_zeroshot.core.errors import UserError


def test_a_recorded_csv_reads_back_and_an_edited_one_is_refused_naming_the_file(tmp_path):
    frame = pd.DataFrame(
        {"model": ["alexnet"] * 2, "k": [1, 2], "test_top1": [0.98, 1.0], "note": ["a b", ""]}
    )
    path = tmp_path / "few.csv"
    write_recorded_csv(frame, path)
    assert path.read_text().splitlines()[0] == "model,k,test_top1,note,rows_sha256"
    read = read_recorded_csv(path, "Fix: delete it.")
    assert list(read.columns) == ["model", "k", "test_top1", "note"]
    assert read["test_top1"].tolist() == [0.98, 1.0] and read["k"].tolist() == [1, 2]
    edited = path.read_text().replace(",0.98,", ",0.01,")
    path.write_text(edited)
    with pytest.raises(UserError) as refused:
        read_recorded_csv(path, "Fix: delete it.")
    assert str(refused.value) == (
        f"{path} is not the file its job wrote: its rows do not match the digest it records "
        "(rows_sha256), so it was edited, cut or written by something else. Fix: delete it."
    )
    write_csv(frame, path)  # a file without the record is refused too
    with pytest.raises(UserError, match="is not the file its job wrote"):
        read_recorded_csv(path, "Fix: delete it.")


def test_a_table_streamed_in_blocks_is_the_text_written_whole(tmp_path, monkeypatch):
    import cifar_zeroshot.core.csv_output as csv_output

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "name": [f"model{n % 7}" for n in range(1_003)],
            "value": rng.normal(size=1_003),
            "missing": np.where(np.arange(1_003) % 5 == 0, np.nan, 1.5),
            "flag": np.arange(1_003) % 2 == 0,
        }
    )
    monkeypatch.setattr(csv_output, "CSV_ROWS_PER_BLOCK", 100)
    csv_output.write_csv(frame, tmp_path / "blocks.csv")
    assert (tmp_path / "blocks.csv").read_text() == csv_output._csv_text(frame)
