"""A failed run's record stands in for each of its job's outputs and is told from Parquet."""

from pathlib import Path

import numpy as np
import pandas as pd

from cifar_zeroshot.records.failed_run import FailedRun, read_failed_run, write_failed_outputs

FAILURE = FailedRun("cifar10", "timm-x.a_in1k", "fp32", "RuntimeError: boom", "logs/x.log")


def test_every_output_holds_the_record_and_reads_back_with_its_file(tmp_path: Path) -> None:
    outputs = [tmp_path / "logits" / "x.parquet", tmp_path / "timing" / "x.parquet"]
    write_failed_outputs(outputs, FAILURE)
    for output in outputs:
        found = read_failed_run(output)
        assert found == FailedRun(**{**FAILURE.__dict__, "file": str(output)})
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "logits",
        "timing",
        "x.parquet",
        "x.parquet",
    ]


def test_a_parquet_file_or_other_json_is_no_failure(tmp_path: Path) -> None:
    parquet = tmp_path / "run.parquet"
    pd.DataFrame({"a": np.arange(3)}).to_parquet(parquet)
    assert read_failed_run(parquet) is None
    other = tmp_path / "other.json"
    other.write_text('{"something": 1}')
    assert read_failed_run(other) is None
