"""GPU slots: distinct GPUs for concurrent jobs, waiting when all are taken, release on SIGKILL."""

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.runtimes.gpu_slots import FAKE_COUNT_ENV, gpu_slot

# Holds a slot until its stdin closes; prints "<index> <CUDA_VISIBLE_DEVICES>" once it has one.
HOLDER = """
import logging, os, sys
from cifar_zeroshot.runtimes.gpu_slots import gpu_slot
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
timeout = float(sys.argv[2]) if len(sys.argv) > 2 else None
with gpu_slot(sys.argv[1], poll_seconds=0.05, timeout_seconds=timeout) as index:
    print(index, os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
    sys.stdin.read()
"""
# Generous: only a broken implementation gets near it (it guards against a hung test).
LINE_TIMEOUT_S = 30


def _start(lock_dir: Path, *args: str, visible: str | None = None) -> subprocess.Popen:
    env = dict(os.environ, **{FAKE_COUNT_ENV: "3"})
    env.pop("CUDA_VISIBLE_DEVICES", None)
    env.pop("SLURM_JOB_ID", None)
    if visible is not None:
        env["CUDA_VISIBLE_DEVICES"] = visible
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_dir), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _first_line(process: subprocess.Popen) -> str:
    ready, _, _ = select.select([process.stdout], [], [], LINE_TIMEOUT_S)
    assert ready, "the process never reported a GPU slot"
    return process.stdout.readline().strip()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate()


def test_concurrent_jobs_get_distinct_gpus_and_a_killed_job_frees_its_gpu(
    tmp_path: Path,
) -> None:
    holders = [_start(tmp_path) for _ in range(3)]
    waiting = None
    try:
        lines = [_first_line(p) for p in holders]
        indices = sorted(int(line.split()[0]) for line in lines)
        assert indices == [0, 1, 2]
        for line in lines:  # CUDA_VISIBLE_DEVICES names the same GPU as the index
            index, visible = line.split()
            assert index == visible

        # All three taken: with a timeout, a fourth job gives up with a UserError...
        impatient = _start(tmp_path, "0.3")
        _, stderr = impatient.communicate(timeout=LINE_TIMEOUT_S)
        assert impatient.returncode != 0
        assert "UserError" in stderr and "stayed busy" in stderr
        assert "waiting" in stderr  # the log line while it polled

        # ...and without one it waits until a holder dies, even by SIGKILL.
        waiting = _start(tmp_path)
        victim = next(p for p, line in zip(holders, lines, strict=True) if line.startswith("1"))
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        assert _first_line(waiting) == "1 1"
    finally:
        for process in [*holders, *([waiting] if waiting else [])]:
            _stop(process)


def test_slot_is_released_and_environment_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with gpu_slot(tmp_path, gpu_count=2) as first:
        assert first == 0
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    with gpu_slot(tmp_path, gpu_count=2) as again:  # GPU 0 is free again
        assert again == 0


def test_choose_among_gpus_already_assigned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As under SLURM: these jobs may use physical GPUs 5 and 7 only.
    holders = [_start(tmp_path, visible="5,7") for _ in range(2)]
    try:
        lines = sorted(_first_line(p) for p in holders)
        assert lines == ["5 5", "7 7"]
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")
        with (
            pytest.raises(UserError, match="stayed busy.*--resources gpu"),
            gpu_slot(tmp_path, gpu_count=8, poll_seconds=0.01, timeout_seconds=0.0),
        ):
            pass
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "5,7"
    finally:
        for process in holders:
            _stop(process)


def test_slurm_assigned_gpu_is_used_without_a_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With device cgroups, every SLURM job on a node sees its own GPU as "0": two such jobs
    # must not wait for each other's lock on "gpu0".
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setenv(FAKE_COUNT_ENV, "1")
    with (
        gpu_slot(tmp_path, timeout_seconds=0.0) as first,
        gpu_slot(tmp_path, timeout_seconds=0.0) as second,
    ):
        assert (first, second) == (0, 0)
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    assert list(tmp_path.iterdir()) == []


def test_no_gpu_yields_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_COUNT_ENV, "0")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with gpu_slot(tmp_path / "locks") as index:
        assert index is None
        assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert not (tmp_path / "locks").exists()


def test_bad_fake_count_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_COUNT_ENV, "three")
    with pytest.raises(UserError, match=FAKE_COUNT_ENV), gpu_slot(tmp_path):
        pass
