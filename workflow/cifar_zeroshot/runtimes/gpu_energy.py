"""GPU energy over the timed loop, from NVML's total-energy counter.

``nvmlDeviceGetTotalEnergyConsumption`` counts millijoules since the driver was loaded (Volta and
newer). The difference of two readings is what the whole GPU drew in between, this job's work
and anything else running on it; the workflow runs one inference job per GPU, so that is the
job's energy. Where NVML cannot say (the CPU, an older GPU, no driver) the figure is None, never
a guess.
"""

from dataclasses import dataclass
from typing import Any

from cifar_zeroshot.runtimes.gpu_slots import nvml_query


def energy_millijoules(gpu_index: int | None) -> int | None:
    """The GPU's total-energy counter now; None without a GPU or where NVML lacks it."""
    if gpu_index is None:
        return None

    def query(nvml: Any) -> int:
        handle = nvml.nvmlDeviceGetHandleByIndex(gpu_index)
        return int(nvml.nvmlDeviceGetTotalEnergyConsumption(handle))

    return nvml_query(query, None)


@dataclass
class EnergyMeter:
    """Joules between ``start()`` and ``stop()`` on one GPU (None where NVML cannot say)."""

    gpu_index: int | None
    _started_mj: int | None = None

    def start(self) -> None:
        self._started_mj = energy_millijoules(self.gpu_index)

    def stop(self) -> float | None:
        if self._started_mj is None:
            return None
        stopped_mj = energy_millijoules(self.gpu_index)
        if stopped_mj is None or stopped_mj < self._started_mj:  # a reset driver restarts at 0
            return None
        return (stopped_mj - self._started_mj) / 1000.0
