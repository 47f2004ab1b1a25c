"""The commands users type, run exactly as the README writes them: no --cores, no ./run.sh
(profiles/default/ gives the cores), in a finished run whose config/config.yaml is the test's."""

import shutil
import subprocess

import pytest
import yaml
from workflow_runner import SMALL_CONFIG, snakemake_env

pytestmark = pytest.mark.e2e


def _typed(workdir, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        shell=True,
        cwd=workdir,
        env=snakemake_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def finished_run_with_its_config(finished_small_run):
    (finished_small_run / "config" / "config.yaml").write_text(yaml.safe_dump(SMALL_CONFIG))
    return finished_small_run


def test_a_plot_is_remade_by_its_name_alone(finished_run_with_its_config):
    workdir = finished_run_with_its_config
    speed = workdir / "results" / "plots" / "speed.png"
    speed.unlink()
    result = _typed(workdir, "snakemake results/plots/speed.png")
    assert result.returncode == 0, result.stderr[-3000:]
    assert speed.stat().st_size > 0
    assert "cores have to be specified" not in result.stderr
    assert "Shell command: None" not in result.stdout + result.stderr


def test_the_main_command_plans_no_model_job_on_a_finished_run(finished_run_with_its_config):
    result = _typed(finished_run_with_its_config, "snakemake --cores 1 --resources gpu=1 -n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "This was a dry-run" in result.stdout
    # The model jobs are finished: whatever the changed config file makes stale, not them.
    assert "inference" not in result.stdout.split("Job stats:")[-1]


def test_the_job_graph_command_writes_a_graph(finished_run_with_its_config):
    workdir = finished_run_with_its_config
    if shutil.which("dot"):
        result = _typed(workdir, "snakemake --dag | dot -Tpng > dag.png")
        assert result.returncode == 0, result.stderr[-3000:]
        assert (workdir / "dag.png").read_bytes().startswith(b"\x89PNG")
    else:  # graphviz is not installed here: the part before the pipe must be DOT alone
        result = _typed(workdir, "snakemake --dag")
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.startswith("digraph snakemake_dag {")
        assert result.stdout.rstrip().endswith("}")


def test_a_failed_job_prints_its_error_once(finished_run_with_its_config):
    """./run.sh's profile: the job prints its one-line error; Snakemake does not repeat the log."""
    workdir = finished_run_with_its_config
    logits = workdir / "results" / "logits" / "cifar10" / "mobilenet_v3_small" / "fp32.parquet"
    logits.write_bytes(b"not parquet")  # newer than the metrics: the metrics job reruns, fails
    result = _typed(workdir, "snakemake --profile profiles/local results/metrics.csv")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    error_lines = [
        line for line in output.splitlines() if str(logits.name) in line and "ERROR" in line
    ]
    assert len(error_lines) == 1, output[-3000:]
