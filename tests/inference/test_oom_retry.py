"""Halving the batch size after out-of-memory errors, with a fake pass (no GPU needed)."""

import logging

import pytest
import torch

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.inference.oom_retry import halve_until_it_fits


def _fits_up_to(limit: int, tried: list[int]):
    def attempt(batch_size: int) -> str:
        tried.append(batch_size)
        if batch_size > limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)\nmore detail")
        return f"ran at {batch_size}"

    return attempt


def test_halves_until_the_pass_fits_and_counts_the_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tried: list[int] = []
    with caplog.at_level(logging.WARNING):
        fitted = halve_until_it_fits(
            _fits_up_to(3, tried), 12, what="m (fp32)", cuda=False, compiled=False
        )
    assert tried == [12, 6, 3]
    assert (fitted.result, fitted.batch_size, fitted.retries) == ("ran at 3", 3, 2)
    assert [record.getMessage() for record in caplog.records] == [
        "m (fp32): out of GPU memory at batch size 12 (CUDA out of memory (simulated)); "
        "retrying with 6.",
        "m (fp32): out of GPU memory at batch size 6 (CUDA out of memory (simulated)); "
        "retrying with 3.",
    ]


def test_a_pass_that_fits_at_once_is_run_once() -> None:
    tried: list[int] = []
    fitted = halve_until_it_fits(_fits_up_to(64, tried), 64, what="m", cuda=False, compiled=False)
    assert tried == [64] and fitted.retries == 0


def test_nothing_fits_even_at_batch_size_one() -> None:
    tried: list[int] = []
    with pytest.raises(UserError, match=r"m \(bf16\) does not fit in GPU memory even with batch"):
        halve_until_it_fits(_fits_up_to(0, tried), 5, what="m (bf16)", cuda=False, compiled=False)
    assert tried == [5, 2, 1]


def test_other_errors_are_not_retried() -> None:
    def attempt(batch_size: int) -> None:
        raise RuntimeError("not memory")

    with pytest.raises(RuntimeError, match="not memory"):
        halve_until_it_fits(attempt, 8, what="m", cuda=False, compiled=False)
