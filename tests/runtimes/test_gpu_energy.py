"""GPU energy from NVML's counter, with a fake NVML (no GPU needed)."""

import sys
import types

import pytest

from cifar_zeroshot.runtimes.gpu_energy import EnergyMeter, energy_millijoules


def _fake_nvml(readings_mj, *, supported=True):
    """A pynvml stand-in whose energy counter returns ``readings_mj`` one after another."""
    module = types.ModuleType("pynvml")
    calls = {"handles": []}
    readings = iter(readings_mj)

    def get_energy(handle):
        if not supported:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return next(readings)

    def get_handle(index):
        calls["handles"].append(index)
        return f"handle-{index}"

    module.nvmlInit = lambda: None
    module.nvmlShutdown = lambda: None
    module.nvmlDeviceGetHandleByIndex = get_handle
    module.nvmlDeviceGetTotalEnergyConsumption = get_energy
    return module, calls


def test_joules_over_the_interval_on_the_jobs_gpu(monkeypatch):
    fake, calls = _fake_nvml([1_000_000, 1_250_500])
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    meter = EnergyMeter(gpu_index=3)
    meter.start()
    assert meter.stop() == pytest.approx(250.5)
    assert calls["handles"] == [3, 3]


def test_no_figure_without_a_gpu_or_where_nvml_cannot_say(monkeypatch):
    meter = EnergyMeter(gpu_index=None)  # a CPU job
    meter.start()
    assert meter.stop() is None
    fake, _ = _fake_nvml([], supported=False)  # e.g. a GPU older than Volta
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert energy_millijoules(0) is None
    meter = EnergyMeter(gpu_index=0)
    meter.start()
    assert meter.stop() is None


def test_a_counter_that_went_backwards_gives_no_figure(monkeypatch):
    fake, _ = _fake_nvml([5_000, 1_000])  # the driver was reloaded in between
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    meter = EnergyMeter(gpu_index=0)
    meter.start()
    assert meter.stop() is None
