"""Out of GPU memory: retry a pass at half the batch size, down to 1."""

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch

from cifar_zeroshot.core.errors import UserError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Fitted(Generic[T]):
    result: T
    batch_size: int  # the size that fitted
    retries: int  # how many times the size was halved


def _release_memory(cuda: bool, compiled: bool) -> None:
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    if compiled:
        torch._dynamo.reset()  # compile afresh for the new shape instead of going dynamic


def halve_until_it_fits(
    attempt: Callable[[int], T], batch_size: int, *, what: str, cuda: bool, compiled: bool
) -> Fitted[T]:
    """``attempt(batch_size)``, halving the size after each out-of-memory error.

    ``what`` names the run in messages, e.g. "resnet50 (bf16)". ``cuda`` and ``compiled`` say
    what must be released between tries.
    """
    retries = 0
    while True:
        try:
            return Fitted(attempt(batch_size), batch_size, retries)
        except torch.cuda.OutOfMemoryError as error:
            failure = str(error).splitlines()[0] if str(error) else "out of memory"
        # Out of the except block, so the traceback no longer holds the failed batch's tensors.
        _release_memory(cuda, compiled)
        if batch_size == 1:
            raise UserError(
                f"{what} does not fit in GPU memory even with batch size 1 ({failure}). Fix: "
                "free the GPU (other processes?), use a GPU with more memory, or run it with "
                "device 'cpu'."
            )
        retries += 1
        log.warning(
            "%s: out of GPU memory at batch size %d (%s); retrying with %d.",
            what,
            batch_size,
            failure,
            batch_size // 2,
        )
        batch_size //= 2
