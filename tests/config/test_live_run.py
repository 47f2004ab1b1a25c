"""cifar_zeroshot.config.live_run: a second start in a folder where a run is alive says so."""

import os
import subprocess
import sys
import time
from pathlib import Path

from cifar_zeroshot.config.live_run import clear_live_run, live_run_note, record_live_run


def _started(process: subprocess.Popen, word: bytes) -> subprocess.Popen:
    """``process`` once its command line is its own (right after the fork it is the parent's)."""
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    for _ in range(100):
        if word in cmdline.read_bytes():
            return process
        time.sleep(0.05)
    raise AssertionError(f"{process.args} did not start")


def test_a_live_run_is_named_and_a_finished_one_is_not(tmp_path):
    record = tmp_path / ".snakemake/cifar-zeroshot-run.json"
    assert live_run_note(record, os.getpid()) is None  # no record
    # A stand-in for a running snakemake: its command line names it.
    live = _started(
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "snakemake"]),
        b"snakemake",
    )
    try:
        record_live_run(record, live.pid, "2026-12-07T18:00:00")
        note = live_run_note(record, os.getpid())
        assert note is not None and f"pid {live.pid}" in note
        assert "do not use --unlock or --rerun-incomplete" in note
        assert live_run_note(record, live.pid) is None  # the run itself
    finally:
        live.kill()
        live.wait()
    assert live_run_note(record, os.getpid()) is None  # killed: Snakemake's advice is right then


def test_a_process_that_is_not_snakemake_is_no_live_run(tmp_path):
    record = tmp_path / "run.json"
    other = _started(
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]), b"sleep(60)"
    )
    try:
        record_live_run(record, other.pid, "2026-12-07T18:00:00")
        assert live_run_note(record, os.getpid()) is None  # a reused process number
    finally:
        other.kill()
        other.wait()


def test_a_run_clears_only_its_own_record(tmp_path):
    record = tmp_path / "run.json"
    record_live_run(record, 12345, "t")
    clear_live_run(record, 999)
    assert record.exists()
    clear_live_run(record, 12345)
    assert not record.exists()
    record.write_text("not json")
    assert live_run_note(record, os.getpid()) is None
    clear_live_run(record, 12345)  # a damaged record is left, and harmless
