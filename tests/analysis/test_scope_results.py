"""Tests for cifar_zeroshot.analysis.test_set_results' scoring one run, and one block of a run,
at a time: what is read at once, what a result keeps, and that the figures are the block's."""

import dataclasses

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from run_files import GROUPS, make_facts, make_summary, one_hot_logits, timing_batches

from cifar_zeroshot.analysis import evaluation
from cifar_zeroshot.analysis.evaluation import (
    RunRecord,
    open_runs,
    read_run,
    score_run,
    with_agreement,
)
from cifar_zeroshot.analysis.test_set_results import scope_results
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.records.logits import LogitsWriter, write_timing

MAX_LOGIT = [ClassMappingMethod(GROUPS, "max_logit")]
N, BLOCK, BATCH = 60, 20, 5  # three blocks of 20 images, written in batches of 5
BLOCKS = pd.DataFrame(
    {
        "corruption": ["fog", "fog", "snow"],
        "severity": [1, 5, 1],
        "first_image": [0, 20, 40],
        "images": [BLOCK] * 3,
    }
)


def _write(folder, model, variant, logits, labels, seed):
    """A run written as inference writes it: one row group per batch, batches in a shuffled
    order of blocks of consecutive images (a row group's image_index range is one batch)."""
    facts = make_facts(model, variant, image_count=N)
    logits_path = folder / "logits" / model / f"{variant}.parquet"
    timing_path = folder / "timing" / model / f"{variant}.parquet"
    batches = np.arange(N).reshape(-1, BATCH)
    with LogitsWriter(logits_path, facts) as writer:
        for rows in batches[np.random.default_rng(seed).permutation(len(batches))]:
            writer.write_batch(rows, labels[rows], logits[rows])
    write_timing(timing_path, timing_batches(N), facts, make_summary(seed))
    return logits_path, timing_path


@pytest.fixture
def runs(tmp_path):
    labels = np.arange(N) % 10
    winners = np.where(np.arange(N) % 7 == 0, 500, 10 * labels)  # 500: an unmapped class
    fp32 = one_hot_logits(winners)
    bf16 = fp32.copy()
    bf16[[4, 25, 47]] = one_hot_logits([30, 30, 30])  # cat, where fp32 says another class
    return [
        _write(tmp_path, "resnet", "fp32", fp32, labels, 0),
        _write(tmp_path, "resnet", "bf16", bf16, labels, 1),
        _write(tmp_path, "vit", "fp32", one_hot_logits(10 * ((labels + 1) % 10)), labels, 2),
    ]


def _instrumented(monkeypatch):
    """Records how many rows of values each read_values call materialises, and refuses a read
    of a logits file's whole values column."""
    sizes = []
    read_values = evaluation.read_values

    def counting(rows, wanted):
        values = read_values(rows, wanted)
        sizes.append(len(values))
        return values

    whole_read = pq.ParquetFile.read

    def index_columns_only(self, columns=None, **kwargs):
        values = "logits" in self.schema_arrow.names  # not a timing file
        if values and (columns is None or set(columns) - {"image_index", "label"}):
            raise AssertionError(f"a whole file's values were read ({columns})")
        return whole_read(self, columns=columns, **kwargs)

    monkeypatch.setattr(evaluation, "read_values", counting)
    monkeypatch.setattr(pq.ParquetFile, "read", index_columns_only)
    return sizes


def test_a_blocked_run_is_read_one_block_at_a_time(runs, monkeypatch):
    sizes = _instrumented(monkeypatch)
    results = scope_results("cifar10-c", open_runs(runs), MAX_LOGIT, BLOCKS)
    assert sizes == [BLOCK] * 9  # three runs, three blocks each
    assert len(results) == 9


def test_a_block_reads_only_the_row_groups_that_hold_its_images(runs, monkeypatch):
    groups = []
    read_row_group = pq.ParquetFile.read_row_group

    def recording(self, group, *args, **kwargs):
        groups.append(group)
        return read_row_group(self, group, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", recording)
    scope_results("cifar10-c", open_runs(runs[:1]), MAX_LOGIT, BLOCKS)
    assert len(groups) == N // BATCH  # each batch of 5 lies in one block: read once
    assert sorted(groups) == list(range(N // BATCH))


def test_block_results_are_those_of_the_blocks_rows_scored_alone(runs):
    results = scope_results("cifar10-c", open_runs(runs), MAX_LOGIT, BLOCKS)
    by_key = {result.key: result for result in results}
    for (corruption, severity, first, images), (path, timing) in (
        (block, run) for block in BLOCKS.itertuples(index=False) for run in runs
    ):
        whole = read_run(path, timing)
        rows = slice(first, first + images)
        outputs = whole.outputs
        block = dataclasses.replace(
            whole,
            outputs=dataclasses.replace(
                outputs,
                image_index=outputs.image_index[rows],
                labels=outputs.labels[rows],
                logits=outputs.logits[rows],
            ),
        )
        alone = score_run(block, MAX_LOGIT[0])
        facts = whole.facts
        ours = by_key[
            ("cifar10-c", corruption, severity, facts.model, facts.variant, "class_mapping")
        ]
        assert ours.correct == alone.correct and ours.calibration == alone.calibration
        np.testing.assert_array_equal(ours.predicted, alone.predicted)
        np.testing.assert_array_equal(ours.run.labels, outputs.labels[rows])
        np.testing.assert_array_equal(
            ours.run.imagenet_top1, np.argmax(outputs.logits[rows], axis=1)
        )
    # Agreement is per block: bf16 differs from fp32 on one image of each.
    bf16 = [r for r in results if r.run_key == ("resnet", "bf16", "class_mapping")]
    assert [r.agreement_with_fp32 for r in bf16] == pytest.approx([1 - 1 / BLOCK] * 3)
    assert with_agreement(bf16)[0].agreement_with_fp32 == bf16[0].agreement_with_fp32


def test_a_result_keeps_no_logits_and_runs_share_their_image_arrays(runs):
    for blocks in (None, BLOCKS):
        results = scope_results("cifar10-c", open_runs(runs), MAX_LOGIT, blocks)
        for result in results:
            record = result.run
            assert isinstance(record, RunRecord)
            held = [getattr(record, field.name) for field in dataclasses.fields(record)]
            held += [getattr(result, field.name) for field in dataclasses.fields(result)]
            arrays = [value for value in held if isinstance(value, np.ndarray)]
            assert all(array.ndim == 1 for array in arrays)
            assert result.predicted.dtype == np.int8 and record.imagenet_top1.dtype == np.int16
        for scope in {result.scope for result in results}:
            ours = [result.run for result in results if result.scope == scope]
            assert len({id(run) for run in ours}) == len(runs)  # one record per run
            assert all(run.image_index is ours[0].image_index for run in ours)
            assert all(run.labels is ours[0].labels for run in ours)


def test_runs_are_opened_one_at_a_time_and_share_the_first_runs_arrays(runs):
    opened = open_runs(runs)
    first = next(opened)
    second = next(opened)
    assert second.record.image_index is first.record.image_index
    assert second.record.labels is first.record.labels
    assert second.record.outputs_path == runs[1][0]  # its own path and facts all the same
    assert second.facts.variant == "bf16"


def test_a_nan_in_one_block_is_refused_naming_its_image(tmp_path):
    labels = np.arange(N) % 10
    logits = one_hot_logits(10 * labels)
    logits[33, 7] = np.nan
    run = _write(tmp_path, "resnet", "fp32", logits, labels, 0)
    with pytest.raises(UserError, match=r"NaN or infinite logits \(first at image_index 33\)"):
        scope_results("cifar10-c", open_runs([run]), MAX_LOGIT, BLOCKS)
