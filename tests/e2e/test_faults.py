"""Faults in a real workflow run: killed jobs, bad archives, damaged logits, bad configuration."""

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_runner import (
    SMALL_CONFIG,
    copy_workflow,
    planned_jobs,
    snakemake,
    snakemake_command,
    snakemake_env,
    write_config,
)

from cifar_zeroshot.records.logits import read_logits

pytestmark = pytest.mark.e2e

# One small model: enough for every check but the kill, which needs a job still running.
SLOW_CONFIG = {**SMALL_CONFIG, "synthetic_images_per_class": 12, "batch_size": 4}
LOGITS = "results/logits/cifar10/mobilenet_v3_small/fp32.parquet"
TIMING = "results/timing/cifar10/mobilenet_v3_small/fp32.parquet"
ACCURACY_COLUMNS = ["model", "variant", "images", "top1", "top5", "unrestricted_top1"]


@pytest.fixture
def workdir(tmp_path):
    return copy_workflow(tmp_path, SMALL_CONFIG)


def _kill_inference_half_way(workdir):
    """Start the workflow and SIGKILL it (the whole process group) once logits are being written."""
    process = subprocess.Popen(
        snakemake_command(),
        cwd=workdir,
        env=snakemake_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    output_dir = workdir / "results/logits/cifar10/mobilenet_v3_small"
    deadline = time.monotonic() + 300
    try:
        while not list(output_dir.glob(".fp32.parquet.*.tmp")):
            assert process.poll() is None, "the workflow ended before it could be killed"
            assert time.monotonic() < deadline, "inference never started writing"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_killed_inference_leaves_nothing_trusted_and_rerun_matches(workdir):
    write_config(workdir, SLOW_CONFIG)
    _kill_inference_half_way(workdir)
    assert not (workdir / LOGITS).exists()
    assert not (workdir / "results/metrics.csv").exists()

    # A killed Snakemake leaves its lock or incomplete markers, and the next run says which
    # flag lifts them (the README explains both).
    blocked = snakemake(workdir, check=False)
    assert blocked.returncode != 0
    assert "--unlock" in blocked.stderr or "--rerun-incomplete" in blocked.stderr
    snakemake(workdir, "--unlock")
    # The logits are what the kill could have damaged: the metrics and plots need no rerun here.
    snakemake(workdir, LOGITS, "--rerun-incomplete")
    resumed = read_logits(workdir / LOGITS)
    assert sorted(p.name for p in (workdir / LOGITS).parent.iterdir()) == ["fp32.parquet"]

    snakemake(workdir, LOGITS, "--forcerun", "inference")
    uninterrupted = read_logits(workdir / LOGITS)
    np.testing.assert_array_equal(resumed.logits, uninterrupted.logits)


def _job_script_pids(workdir: Path, script: str) -> list[int]:
    """The Python processes running this workdir's copy of a job script (not the shell around)."""
    scripts = f"{workdir}/.snakemake/scripts/"
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().decode().split("\0")
        except (OSError, ValueError):
            continue  # gone, or not a process
        if any(arg.startswith(scripts) and arg.endswith(script) for arg in argv[1:2]):
            pids.append(int(proc.name))
    return pids


def test_a_job_killed_during_forcerun_is_rebuilt_by_a_plain_rerun(finished_small_run):
    """The fix the troubleshooting page gives for a stale file, cut short by a kill -9."""
    workdir = finished_small_run
    finished = read_logits(workdir / LOGITS)
    process = subprocess.Popen(
        snakemake_command("--forcerun", LOGITS),
        cwd=workdir,
        env=snakemake_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    try:
        while not (pids := _job_script_pids(workdir, ".inference.py")):
            assert process.poll() is None, "the workflow ended before its job could be killed"
            assert time.monotonic() < deadline, "the inference job never started"
            time.sleep(0.05)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        assert process.wait(timeout=300) != 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Snakemake deleted the job's outputs (older ones at its start, the failed ones at its end);
    # the metrics and plots made from them are still there and up to date by their times.
    assert not (workdir / LOGITS).exists() and not (workdir / TIMING).exists()
    assert (workdir / "results/metrics.csv").exists()

    rerun = snakemake(workdir)
    assert "Nothing to be done" not in rerun.stdout + rerun.stderr
    np.testing.assert_array_equal(read_logits(workdir / LOGITS).logits, finished.logits)
    assert (workdir / TIMING).exists()
    assert planned_jobs(workdir) == {}


@pytest.mark.parametrize(
    ("deleted", "rebuilt_by"),
    [
        (LOGITS, "inference"),
        (TIMING, "inference"),
        ("results/class_mapping_summary.csv", "class_mapping"),
        ("data/synthetic/test_set.npz", "test_set"),
    ],
)
def test_a_missing_kept_file_is_rebuilt_by_a_plain_rerun(finished_small_run, deleted, rebuilt_by):
    workdir = finished_small_run
    (workdir / deleted).unlink()
    jobs = planned_jobs(workdir)
    # The job that writes it, and what reads it (the metrics never trust files they did not see).
    assert jobs.get(rebuilt_by) == 1 and jobs.get("metrics") == 1, jobs


def test_two_runs_give_identical_accuracy(finished_small_run, tmp_path_factory):
    workdir = finished_small_run  # one run, made once per session
    other = copy_workflow(tmp_path_factory.mktemp("second"), SMALL_CONFIG)
    # As far as the tables compared below (the metrics job writes them all): no figure is.
    snakemake(other, "results/metrics.csv")
    first = pd.read_csv(workdir / "results/metrics.csv")[ACCURACY_COLUMNS]
    second = pd.read_csv(other / "results/metrics.csv")[ACCURACY_COLUMNS]
    pd.testing.assert_frame_equal(first, second)
    for table in ["per_class", "confusion", "top_confusions"]:
        assert (workdir / f"results/{table}.csv").read_bytes() == (
            other / f"results/{table}.csv"
        ).read_bytes(), table


def test_damaged_logits_stop_the_metrics_naming_the_file(finished_small_run):
    workdir = finished_small_run
    logits = workdir / LOGITS
    logits.write_bytes(logits.read_bytes()[:5000])
    result = snakemake(workdir, check=False)
    assert result.returncode != 0
    assert "mobilenet_v3_small/fp32.parquet is not a readable Parquet file" in result.stderr
    # Snakemake removes a failed job's outputs: no table built from the damaged file survives.
    assert not (workdir / "results/metrics.csv").exists()


def test_corrupt_archive_stops_before_anything_downstream(workdir):
    snakemake(workdir, "data/synthetic/cifar-10-binary.tar.gz")
    archive = workdir / "data/synthetic/cifar-10-binary.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    result = snakemake(workdir, check=False)
    assert result.returncode != 0
    assert "cifar-10-binary.tar.gz" in result.stderr
    assert "MD5" in result.stderr
    assert not (workdir / "data/synthetic/test_set.npz").exists()
    assert not (workdir / "results/logits").exists()

    archive.unlink()  # the fix the message gives: delete it and rerun
    snakemake(workdir, "data/synthetic/test_set.npz")
    assert (workdir / "data/synthetic/test_set.npz").exists()


def test_missing_real_archive_without_network_names_the_file(workdir):
    write_config(workdir, {**SMALL_CONFIG, "dataset": "cifar10", "limit": 8})
    result = snakemake(workdir, "data/cifar10/test_set.npz", check=False, timeout=300)
    assert result.returncode != 0
    assert "data/cifar-10-binary.tar.gz" in result.stderr
    assert not (workdir / "data/cifar-10-binary.tar.gz").exists()
    assert not list((workdir / "data").glob("*.part"))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"batch_size": 0}, "config key 'batch_size' has a bad value 0"),
        ({"models": ["resnet5"]}, "resnet50"),
        ({"models": ["../x"]}, "'../x'"),
        ({"device": "cuda"}, "CUDA"),
    ],
)
def test_bad_configuration_fails_with_the_message(workdir, overrides, expected):
    write_config(workdir, {**SMALL_CONFIG, **overrides})
    result = snakemake(workdir, check=False, timeout=300)
    assert result.returncode != 0
    assert expected in result.stderr
    assert not (workdir / "results/logits").exists() or not list(
        (workdir / "results/logits").rglob("*.parquet")
    )


def test_config_file_that_is_not_yaml(workdir):
    config_file = workdir / "config/config.yaml"
    config_file.write_text("dataset: synthetic\nmodels: [alexnet\nbatch_size: 8\n")
    result = snakemake(workdir, "--dry-run", check=False)
    assert result.returncode != 0
    # A dry run logs to stdout.
    assert "config/config.yaml is not valid YAML at line 3" in result.stdout + result.stderr
