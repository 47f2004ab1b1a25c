"""The workflow on a real SLURM cluster: a throwaway single-node cluster on 127.0.0.1.

tests/slurm/start-slurm.sh starts munged + slurmctld + slurmd (two fake GPUs) under a temporary
directory; the trimmed offline demo then runs through profiles/slurm + profiles/slurm-ci, and
once more locally, up to the metrics job's tables. Every inference job must have gone through
sbatch (and asked for a GPU), and both runs must give identical logits and accuracy tables (CPU
fp32 inference is deterministic).

Needs root and Debian's slurm-wlm (installed with apt-get when missing). Elsewhere the test is
skipped, except under CI=true, where a skip would hide a broken cluster job: it fails instead.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_runner import REPO

from cifar_zeroshot.records.logits import read_logits

pytestmark = pytest.mark.slurm

CLUSTER_SCRIPTS = REPO / "tests" / "slurm"
VENV_BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI") == "true"

# What a run needs from the repository; data/, results/, logs/ and .snakemake/ stay behind.
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "profiles")
# The offline demo (synthetic images, untrained weights), trimmed to two small models and the
# first 40 images: two SLURM jobs, each a few seconds of inference. One thread each, so both
# jobs fit the 2-core test node (with its two fake GPUs) at once; both runs use the same thread
# count, since a different one could change fp32 sums in the last bits.
MODELS = ("squeezenet1_1", "mobilenet_v3_small")
RUN_ARGS = (
    "--configfile",
    "config/presets/demo.yaml",
    "--config",
    "limit=40",
    "threads=1",
    "linear_probe=false",  # the probe's jobs are tested apart (test_linear_probe_workflow.py)
    f"models=[{','.join(MODELS)}]",
    # The shifted sets' jobs are tested apart (test_shifted_sets_workflow.py); their inference
    # rule is the inference rule's copy, with its resources and no localrule.
    "test_sets=[cifar10]",
)
# Seconds. The SLURM plugin may hang and ignore SIGTERM (e.g. when its status command fails),
# so every command runs under `timeout -k`, which follows up with SIGKILL.
START_TIMEOUT = 300  # includes `apt-get install slurm-wlm` on a fresh machine
RUN_TIMEOUT = 300
STOP_TIMEOUT = 60
KILL_AFTER = 10
DAEMONS = {
    "munged": "munge/munged.pid",
    "slurmctld": "run/slurmctld.pid",
    "slurmd": "run/slurmd.pid",
}
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")


@dataclass(frozen=True)
class Cluster:
    """A running test cluster: its directory and the environment that reaches it."""

    directory: Path
    env: dict[str, str]


@dataclass(frozen=True)
class RunResult:
    """One finished `snakemake` run: its working directory and combined output."""

    workdir: Path
    output: str


def _skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; CI=true, so the SLURM test must run: fix the CI machine")
    pytest.skip(reason)


def _require_cluster_tools() -> None:
    if os.geteuid() != 0:
        _skip_or_fail("the SLURM test needs root (munged, slurmctld, slurmd)")
    search_path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"])
    if not (shutil.which("slurmctld", path=search_path) or shutil.which("apt-get")):
        _skip_or_fail("neither slurmctld nor apt-get (to install slurm-wlm) is available")
    for tool in ("timeout", "runuser"):
        if shutil.which(tool, path=search_path) is None:
            _skip_or_fail(f"`{tool}` is missing")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        _skip_or_fail("snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]')")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _timed(cmd: list[str], seconds: int) -> list[str]:
    """`cmd` under `timeout`, with SIGKILL KILL_AFTER seconds after an ignored SIGTERM."""
    return ["timeout", "-k", str(KILL_AFTER), str(seconds), *cmd]


def _run(cmd: list[str], *, env: dict[str, str], cwd: Path | None, seconds: int) -> str:
    """Run `cmd` under `timeout -k`; return stdout+stderr, fail the test with it on error."""
    proc = subprocess.run(
        _timed(cmd, seconds),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        killed = " (killed by timeout)" if proc.returncode in (124, 137) else ""
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}{killed}; output tail:\n{proc.stdout[-6000:]}"
        )
    return proc.stdout


def _pid_alive(pid: int, name: str) -> bool:
    """True while `pid` is a live (not zombie) process called `name`."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return comm == name and not re.search(r"^State:\s*Z", status, re.MULTILINE)


def _read_pids(directory: Path) -> dict[str, int]:
    pids = {}
    for name, rel in DAEMONS.items():
        pid_file = directory / rel
        if pid_file.is_file() and pid_file.read_text().strip().isdigit():
            pids[name] = int(pid_file.read_text())
    return pids


def _sourced_env(env_file: Path, base: dict[str, str]) -> dict[str, str]:
    """The environment after `source env_file` (SLURM_CONF, PATH with the srun wrapper)."""
    out = subprocess.run(
        ["bash", "-c", '. "$1" && env -0', "bash", str(env_file)],
        env=base,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


def _base_env() -> dict[str, str]:
    """This environment with the venv first in PATH and no stray SLURM or profile settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SNAKEMAKE_PROFILE"))}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", ""), "/usr/sbin", "/usr/bin"])
    return env


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Start a private cluster; afterwards stop its daemons by pid and check they are gone."""
    _require_cluster_tools()
    # Not under pytest's tmp_path: its parents are mode 700, and munged runs as user `munge`.
    directory = Path(tempfile.mkdtemp(prefix="cifar-zeroshot-slurm-"))
    directory.chmod(0o755)
    env = _base_env() | {
        "SLURM_CI_DIR": str(directory),
        "FAKE_GPUS": "2",  # both inference jobs at once (each asks for one GPU)
        # Private ports, so a cluster already running on this machine is left alone.
        "SLURMCTLD_PORT": str(_free_port()),
        "SLURMD_PORT": str(_free_port()),
    }
    pids: dict[str, int] = {}
    try:
        _run(
            ["bash", str(CLUSTER_SCRIPTS / "start-slurm.sh")],
            env=env,
            cwd=None,
            seconds=START_TIMEOUT,
        )
        pids = _read_pids(directory)
        assert set(pids) == set(DAEMONS), f"pid files missing under {directory}: {pids}"
        yield Cluster(directory, _sourced_env(directory / "slurm-env.sh", env))
    finally:
        pids |= _read_pids(directory)  # also daemons of a start that failed half-way
        stop = subprocess.run(
            _timed(["bash", str(CLUSTER_SCRIPTS / "stop-slurm.sh")], STOP_TIMEOUT),
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        survivors = {name: pid for name, pid in pids.items() if _pid_alive(pid, name)}
        assert not survivors, f"daemons still running after stop-slurm.sh: {survivors}\n{stop}"
        assert stop.returncode == 0, stop
        shutil.rmtree(directory, ignore_errors=True)


def _copy_workflow(destination: Path) -> Path:
    destination.mkdir()
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source,
                destination / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="module")
def slurm_run(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    # Resolved: Snakemake and SLURM report the real path.
    workdir = _copy_workflow(tmp_path_factory.mktemp("slurm-run").resolve() / "wf")
    cmd = [
        str(VENV_BIN / "snakemake"),
        "--profile",
        "profiles/slurm",
        "--profile",
        "profiles/slurm-ci",
        *RUN_ARGS,
    ]
    return RunResult(workdir, _run(cmd, env=cluster.env, cwd=workdir, seconds=RUN_TIMEOUT))


# What the local run is compared on: the metrics job writes these tables from every logits file.
COMPARED_TABLES = ("metrics.csv", "per_class.csv", "confusion.csv")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """The same trimmed demo run locally, as far as the files compared with the SLURM run: the
    figures and reports after them are the SLURM run's to make (its localrules)."""
    workdir = _copy_workflow(tmp_path_factory.mktemp("local-run").resolve() / "wf")
    targets = [f"results/{table}" for table in COMPARED_TABLES]
    # Targets first: --config takes every word after it.
    cmd = [str(VENV_BIN / "snakemake"), *targets, "--cores", "2", "--resources", "gpu=1", *RUN_ARGS]
    return RunResult(workdir, _run(cmd, env=_base_env(), cwd=workdir, seconds=RUN_TIMEOUT))


def _logits_files(workdir: Path) -> list[Path]:
    return sorted(
        p.relative_to(workdir) for p in (workdir / "results/logits").glob("*/*/*.parquet")
    )


def test_every_inference_job_went_through_sbatch(slurm_run: RunResult, cluster: Cluster) -> None:
    logits = _logits_files(slurm_run.workdir)
    assert {p.parent.name for p in logits} == set(MODELS), logits

    submitted = dict(SUBMITTED.findall(slurm_run.output))  # SLURM job id -> its log file
    # Exactly the inference jobs were submitted; every other rule is a localrule.
    rules = sorted(Path(log).relative_to(slurm_run.workdir).parts[2] for log in submitted.values())
    assert rules == ["rule_inference"] * len(logits), slurm_run.output[-4000:]
    for log in submitted.values():
        assert Path(log).is_file(), f"SLURM job log {log} missing"

    # The cluster itself knows the jobs: completed, each with one GPU (resources gpu=1 -> --gpus).
    for job_id in submitted:
        job = subprocess.run(
            ["scontrol", "--oneliner", "show", "job", job_id],
            env=cluster.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        assert "JobState=COMPLETED" in job, job
        assert re.search(r"TresPerJob=gres:gpu:1\b", job), job
        assert f"WorkDir={slurm_run.workdir}" in job, job
    slurmctld_log = (cluster.directory / "log/slurmctld.log").read_text()
    for job_id in submitted:
        assert re.search(rf"submit_batch_job: JobId={job_id}\b", slurmctld_log), job_id
        assert re.search(rf"_job_complete: JobId={job_id} WEXITSTATUS 0\b", slurmctld_log), job_id


def test_slurm_and_local_runs_give_identical_results(
    slurm_run: RunResult, local_run: RunResult
) -> None:
    files = _logits_files(slurm_run.workdir)
    assert files and files == _logits_files(local_run.workdir)
    for rel in files:
        on_slurm = read_logits(slurm_run.workdir / rel)
        local = read_logits(local_run.workdir / rel)
        assert on_slurm.logits.shape == (40, 1000)
        np.testing.assert_array_equal(on_slurm.image_index, local.image_index)
        np.testing.assert_array_equal(on_slurm.labels, local.labels)
        np.testing.assert_array_equal(on_slurm.logits, local.logits, err_msg=str(rel))

    metrics = [pd.read_csv(run.workdir / "results/metrics.csv") for run in (slurm_run, local_run)]
    accuracy = [
        column
        for column in metrics[0].columns
        if column.startswith(("top1", "top5", "unrestricted_top1", "outside_mapped", "agreement"))
    ]
    assert "top1" in accuracy
    keep = ["model", "variant", "images", *accuracy]  # timing and memory columns differ
    pd.testing.assert_frame_equal(metrics[0][keep], metrics[1][keep])
    # Tables made of counts only must match whole.
    for table in COMPARED_TABLES[1:]:
        pd.testing.assert_frame_equal(
            *(pd.read_csv(run.workdir / "results" / table) for run in (slurm_run, local_run))
        )
