"""Peak memory of an inference job, as torch, the GPU driver and the kernel each report it."""

import os
import resource
from dataclasses import dataclass
from typing import Any

import torch

from cifar_zeroshot.runtimes.gpu_slots import nvml_query


@dataclass(frozen=True)
class PeakMemory:
    """The memory figures of TimingSummary (same field names). None where one does not apply."""

    torch_peak_allocated_bytes: int | None  # CUDA only
    torch_peak_reserved_bytes: int | None  # CUDA only
    nvml_process_bytes: int | None  # CUDA only, where NVML can see this process
    host_peak_rss_bytes: int


def nvml_process_bytes(gpu_index: int | None) -> int | None:
    """This process's memory on its GPU as the driver sees it; None when NVML cannot say."""
    if gpu_index is None:
        return None

    def query(nvml: Any) -> int | None:
        handle = nvml.nvmlDeviceGetHandleByIndex(gpu_index)
        for process in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
            if process.pid == os.getpid() and process.usedGpuMemory is not None:
                return int(process.usedGpuMemory)
        return None  # e.g. another PID namespace

    return nvml_query(query, None)


def peak_memory(device: torch.device, gpu_index: int | None) -> PeakMemory:
    cuda = device.type == "cuda"
    return PeakMemory(
        torch_peak_allocated_bytes=torch.cuda.max_memory_allocated(device) if cuda else None,
        torch_peak_reserved_bytes=torch.cuda.max_memory_reserved(device) if cuda else None,
        nvml_process_bytes=nvml_process_bytes(gpu_index) if cuda else None,
        # Linux reports kilobytes.
        host_peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    )
