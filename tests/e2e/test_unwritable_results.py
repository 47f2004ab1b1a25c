"""Read-only output folders and full disks, tried for real rather than assumed.

Root writes into any folder, so a read-only folder is tried without the right to override file
modes: as this user when it is not root, and as root without CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH (setpriv) when it is, for whom a folder's mode then counts as for its owner.
Full disks and read-only file systems are small tmpfs mounts in a private mount namespace
(unshare): they exist only for the command run inside, so nothing on the host is mounted.
"""

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from workflow_runner import SMALL_CONFIG, copy_workflow, snakemake_command, snakemake_env

pytestmark = pytest.mark.e2e

MODEL = SMALL_CONFIG["models"][0]
LOGITS = f"results/logits/cifar10/{MODEL}/fp32.parquet"
NAMESPACE = ["unshare", "--user", "--map-root-user", "--mount"]


def _mtimes(folder: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in sorted(folder.rglob("*"))}


def _without_override() -> list[str]:
    """The command prefix that takes away the right to write into read-only folders."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, and setpriv (util-linux) is missing to drop its rights")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def _in_mount_namespace(workdir: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a private mount namespace; $SNAKEMAKE in it runs the workflow."""
    tried = subprocess.run([*NAMESPACE, "true"], capture_output=True, text=True, check=False)
    if shutil.which("unshare") is None or tried.returncode != 0:
        pytest.skip(f"no private mount namespace here (unshare: {tried.stderr.strip()})")
    env = snakemake_env() | {"SNAKEMAKE": shlex.join(snakemake_command())}
    return subprocess.run(
        [*NAMESPACE, "sh", "-c", script],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    "folder",
    [
        "results",
        f"results/logits/cifar10/{MODEL}",
        f"results/timing/cifar10/{MODEL}",
        "results/plots",
    ],
)
def test_a_read_only_output_folder_is_refused_before_any_job(finished_small_run, folder):
    workdir = finished_small_run
    before = _mtimes(workdir / "results")
    (workdir / folder).chmod(0o555)
    try:
        # The fix the troubleshooting page gives for a stale file: it makes a job write there.
        result = subprocess.run(
            [*_without_override(), *snakemake_command("--forcerun", LOGITS)],
            cwd=workdir,
            env=snakemake_env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        (workdir / folder).chmod(0o755)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"ERROR: {folder} is not writable, and the workflow writes into it ({folder}). Fix: make "
        f"it writable (chmod u+w {folder}) or run from a folder you can write to."
    )
    assert _mtimes(workdir / "results") == before  # nothing deleted, nothing half-written


def test_a_read_only_file_system_is_refused_before_any_job(finished_small_run):
    workdir = finished_small_run
    before = _mtimes(workdir / "results")
    result = _in_mount_namespace(
        workdir, "mount --bind results results && mount -o remount,ro,bind results && $SNAKEMAKE"
    )
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "ERROR: results is on a read-only file system, and the workflow writes into it "
        "(results). Fix: run from a folder on a writable file system, or mount this one "
        "read-write."
    )
    assert _mtimes(workdir / "results") == before


def test_a_disk_too_full_for_the_logits_is_refused_before_any_job(tmp_path):
    workdir = copy_workflow(tmp_path, SMALL_CONFIG)
    (workdir / "results").mkdir()
    # 40 images' logits need about 160 KiB.
    result = _in_mount_namespace(
        workdir, "mount -t tmpfs -o size=64k tmpfs results && $SNAKEMAKE; ls -A results"
    )
    assert result.stderr.strip() == (
        "ERROR: No space left on device for the logits: they need about 0.2 MiB under results, "
        "but only 0.1 MiB are free. Fix: free some space, or lower limit or the number of models "
        "and variants."
    )
    assert result.stdout.strip() == ""  # nothing was written there
    assert not (workdir / "data").exists()  # no job ran


def test_a_disk_that_fills_during_a_job_names_the_folders_and_leaves_no_partial_file(
    finished_small_run,
):
    workdir = finished_small_run
    # results/logits on a file system of its own, too small for the logits, and empty: the
    # inference job must write them there (the rest of results has room, so planning passes).
    result = _in_mount_namespace(
        workdir,
        "mount -t tmpfs -o size=64k tmpfs results/logits && $SNAKEMAKE; "
        "echo left:; find results/logits results/timing -type f",
    )
    assert (
        f"ERROR: No space left on device while writing into results/logits/cifar10/{MODEL}, "
        f"results/timing/cifar10/{MODEL}: free some space and rerun (details in "
        f"logs/inference/cifar10/{MODEL}/fp32.log)"
    ) in result.stderr
    assert "Traceback" not in result.stderr
    # Neither the cut logits, nor their temporary file, nor the timing of the failed job.
    assert result.stdout.split("left:")[-1].strip() == ""
