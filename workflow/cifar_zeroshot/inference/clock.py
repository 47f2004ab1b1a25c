"""A job's clocks: the process's age at the job's start, and time marks inside the batch loop.

The marks are CUDA events on a GPU, perf_counter on the CPU. On a GPU the work is queued, so a
host clock would time the queueing; events are recorded in the stream and read only after a
sync. On the CPU every operation has finished when it returns, so the wall clock is the truth.
"""

import os
import time
from pathlib import Path

import psutil
import torch

Mark = float | torch.cuda.Event


def process_age_seconds() -> float:
    """Seconds since this process was created: its start-up before the job (interpreter,
    imports, Snakemake's script preamble).

    On Linux from two clocks counted from the same boot: the process's start in clock ticks
    (/proc/self/stat, field 22) and CLOCK_BOOTTIME. psutil's create_time() adds the boot time,
    which Linux states in whole seconds, so the wall clock less it is off by up to a second
    (0.81 s too long on the 2-core EPYC VM of docs/performance.md), and by any step of the wall
    clock since boot. Elsewhere, that figure is all there is.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # fields[0] is field 3
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, AttributeError, ValueError, IndexError):
        return time.time() - psutil.Process().create_time()


class BatchClock:
    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"

    def mark(self) -> Mark:
        if not self.cuda:
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def seconds(self, start: Mark, end: Mark) -> float:
        """Time between two marks; on CUDA only once both have been reached (after a sync)."""
        if isinstance(start, torch.cuda.Event) and isinstance(end, torch.cuda.Event):
            return start.elapsed_time(end) / 1000.0
        assert isinstance(start, float) and isinstance(end, float)
        return end - start

    def wait(self, mark: Mark) -> None:
        """Block until the device has reached ``mark`` (a CPU mark has been reached already)."""
        if isinstance(mark, torch.cuda.Event):
            mark.synchronize()

    def sync(self) -> None:
        """Block until the device has finished all queued work."""
        if self.cuda:
            torch.cuda.synchronize()
