"""One GPU per running inference job on a multi-GPU host.

Snakemake never sets CUDA_VISIBLE_DEVICES, so N jobs started with ``--resources gpu=N`` would
all land on GPU 0. Each job instead takes the first free GPU by holding an exclusive ``flock`` on
``<lock_dir>/gpu<i>.<host>.lock``; the kernel drops the lock however the process ends (SIGKILL
too), so a crashed job never leaves a GPU marked busy. The host is in the name because the lock
folder may sit on a filesystem shared by several nodes.
"""

import contextlib
import fcntl
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from cifar_zeroshot.core.errors import UserError

log = logging.getLogger(__name__)
T = TypeVar("T")

FAKE_COUNT_ENV = "CIFAR_ZEROSHOT_FAKE_GPU_COUNT"  # tests on machines without a GPU
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def nvml_query(query: Callable[[Any], T], default: T) -> T:
    """``query(pynvml)`` inside an NVML session; ``default`` when NVML, the driver or the query
    fails (no GPU, another PID namespace): these figures are informative, never essential."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return default
    try:
        return query(pynvml)
    except Exception:
        return default
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def nvml_gpu_count() -> int:
    """GPUs the driver reports (0 when NVML or the driver is missing). Never touches CUDA."""
    return nvml_query(lambda nvml: int(nvml.nvmlDeviceGetCount()), 0)


def detect_gpu_count() -> int:
    """The fake count for tests when set, else NVML's."""
    fake = os.environ.get(FAKE_COUNT_ENV)
    if fake is not None:
        try:
            return int(fake)
        except ValueError:
            raise UserError(f"{FAKE_COUNT_ENV}={fake!r} must be an integer; unset it.") from None
    return nvml_gpu_count()


def _candidates(count: int) -> list[str]:
    """GPU identifiers to choose from: CUDA_VISIBLE_DEVICES's (SLURM sets it) or 0..count-1."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [entry.strip() for entry in visible.split(",") if entry.strip()]
    return [str(i) for i in range(count)]


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def gpu_slot(
    lock_dir: str | Path,
    gpu_count: int | None = None,
    *,
    poll_seconds: float = 2.0,
    timeout_seconds: float | None = None,
) -> Iterator[int | None]:
    """Hold one free GPU while the block runs; yield its index (None without a GPU).

    Sets CUDA_VISIBLE_DEVICES to the chosen GPU, so it must be entered before torch initialises
    CUDA. The index is the physical one (CUDA_VISIBLE_DEVICES's entry when numeric, else its
    position in that list).
    """
    # One function, longer than most: the lock is held across the ``yield``, so choosing,
    # waiting, taking and releasing a GPU share one frame.
    count = detect_gpu_count() if gpu_count is None else gpu_count
    candidates = _candidates(count) if count > 0 else []
    if not candidates:
        yield None
        return
    if os.environ.get("SLURM_JOB_ID") and os.environ.get("CUDA_VISIBLE_DEVICES"):
        # SLURM already gave this job its own GPU(s), and with device cgroups every job on a
        # node may see its GPU as "0": locking by that name would serialise jobs needlessly.
        entry = candidates[0]
        log.info("Using GPU %s assigned by SLURM job %s", entry, os.environ["SLURM_JOB_ID"])
        yield int(entry) if entry.isdigit() else 0
        return
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    host = _UNSAFE.sub("_", socket.gethostname())
    started = time.monotonic()
    announced = False
    while True:
        for position, entry in enumerate(candidates):
            path = lock_dir / f"gpu{_UNSAFE.sub('_', entry)}.{host}.lock"
            fd = _try_lock(path)
            if fd is None:
                continue
            previous = os.environ.get("CUDA_VISIBLE_DEVICES")
            os.environ["CUDA_VISIBLE_DEVICES"] = entry
            index = int(entry) if entry.isdigit() else position
            log.info("Using GPU %s (lock %s)", entry, path)
            try:
                yield index
            finally:
                if previous is None:
                    os.environ.pop("CUDA_VISIBLE_DEVICES", None)
                else:
                    os.environ["CUDA_VISIBLE_DEVICES"] = previous
                os.close(fd)  # releases the flock
            return
        waited = time.monotonic() - started
        if timeout_seconds is not None and waited >= timeout_seconds:
            raise UserError(
                f"All {len(candidates)} GPUs ({', '.join(candidates)}) stayed busy for "
                f"{waited:.0f} s (locks in {lock_dir}). Run fewer GPU jobs at once "
                "(snakemake --resources gpu=<number of GPUs>) or wait for the others to finish."
            )
        if not announced:
            log.info(
                "All %d GPUs (%s) are taken by other jobs (locks in %s); waiting for one to "
                "become free, checking every %.1f s.",
                len(candidates),
                ", ".join(candidates),
                lock_dir,
                poll_seconds,
            )
            announced = True
        time.sleep(poll_seconds)
