"""bench/logits_codecs.py, the evidence for the per-image files' codec, still measures and prints
every candidate, their round trip and the float16 effects. A tiny run: it checks what the script
reports, never how fast anything is."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from run_files import make_facts
from workflow_runner import REPO

from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.records.logits import LogitsWriter


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "logits_codecs.py"), *args],
        env={**os.environ, "PYTHONPATH": str(REPO / "workflow")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_candidate_round_trips_and_float16_effects_are_reported(tmp_path: Path) -> None:
    n = 40
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((n, 1000)) * 4).astype(np.float32)
    labels = np.arange(n) % 10
    path = tmp_path / "fp32.parquet"
    with LogitsWriter(path, make_facts("m", image_count=n)) as writer:
        writer.write_batch(np.arange(n), labels, logits)
    mapping = tmp_path / "class_mapping.csv"
    pd.DataFrame(
        {
            "cifar_class": [c for c in CIFAR10_CLASSES for _ in range(2)],
            "imagenet_index": np.arange(20),
            "imagenet_name": [f"class {i}" for i in range(20)],
        }
    ).to_csv(mapping, index=False)
    result = _run(f"--file={path}", "--repeats=1", "--batch-size=16", f"--class-mapping={mapping}")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    names = [row.split("|")[1].strip() for row in rows]
    codecs = ["none", "lz4", "snappy", "zstd-1", "zstd-3", "zstd-9"]
    expected = [n for c in codecs for n in (c, f"{c} + bss")] + ["the workflow's options"]
    assert names == ["codec", *expected, "codec", *expected]  # float32, then float16
    assert all(row.split("|")[-3].strip() == "yes" for row in rows if "codec" not in row)
    assert all(row.split("|")[-2].strip() == "kept" for row in rows if "codec" not in row)
    none_size = float(rows[1].split("|")[2].replace(",", ""))
    assert none_size > 4000  # 1000 float32 values an image
    assert "images whose ImageNet top-1 (argmax of 1000) changes" in result.stdout
    for pooling in ("max_logit", "mean_prob", "sum_prob"):
        assert f"- {pooling}: CIFAR-10 top-1 float32" in result.stdout


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = _run(f"--file={tmp_path / 'absent.parquet'}", "--repeats=1")
    assert result.returncode != 0
    assert "absent.parquet does not exist" in result.stderr
