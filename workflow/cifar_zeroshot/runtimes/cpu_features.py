"""Whether this CPU has bfloat16 instructions, read from /proc/cpuinfo (no torch import, so
planning can ask).

Without them torch still runs a bf16 model on the CPU, emulating each product in fp32 arithmetic
(oneDNN's reference kernels): slower than fp32 and no measurement of bf16 hardware, so the bf16
precision on the CPU is refused there rather than run that way.
"""

import contextlib
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
# x86: AVX-512 BF16 (Cooper Lake, Zen 4 on) and AMX (Sapphire Rapids on); Arm: FEAT_BF16.
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")


def cpu_flags() -> frozenset[str] | None:
    """The first processor's feature flags; None where /proc/cpuinfo cannot be read."""
    with contextlib.suppress(OSError):
        for line in CPUINFO.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("flags", "Features"):
                return frozenset(value.split())
    return None


def bf16_missing() -> str | None:
    """Why this CPU cannot run bf16 natively (None: it can, or it cannot be told)."""
    flags = cpu_flags()
    if flags is None or flags & set(BF16_FLAGS):
        return None
    return (
        f"this CPU ({platform.machine()}) has none of the bf16 instructions "
        f"{', '.join(BF16_FLAGS)} (/proc/cpuinfo flags), so torch would emulate bf16 in fp32 "
        "arithmetic, slower than fp32"
    )
