"""Time marks inside the batch loop: CUDA events on a GPU, perf_counter on the CPU.

On a GPU the work is queued, so a host clock would time the queueing; events are recorded in
the stream and read only after a sync. On the CPU every operation has finished when it returns,
so the wall clock is the truth.
"""

import time

import torch

Mark = float | torch.cuda.Event


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
