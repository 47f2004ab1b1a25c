"""Files a user edited, deleted or put in another's place, on one finished run with both
shifted sets (a private copy of the session's run with SHIFTED_SETS_CONFIG: the small run plus
CIFAR-10.1 and CIFAR-10-C stand-ins): each is rebuilt by a plain rerun or refused by name, never
believed."""

import os
import shutil

import pandas as pd
import pytest
from workflow_runner import copy_finished_run, planned_jobs, snakemake

pytestmark = pytest.mark.e2e

C_DIR = "data/synthetic/cifar10-c"


@pytest.fixture(scope="module")
def shifted_run(tmp_path_factory, _pristine_shifted_run):
    return copy_finished_run(_pristine_shifted_run, tmp_path_factory.mktemp("hostile") / "run")


@pytest.fixture
def put_back(shifted_run):
    """Files moved aside or replaced by a test go back afterwards, times kept, so the next test
    finds the finished run unchanged."""
    saved = shifted_run / "saved"
    saved.mkdir()
    kept: list[str] = []

    def keep(relative: str) -> None:
        (saved / relative).parent.mkdir(parents=True, exist_ok=True)
        if (shifted_run / relative).is_dir():
            shutil.copytree(shifted_run / relative, saved / relative)
        else:
            shutil.copy2(shifted_run / relative, saved / relative)
        kept.append(relative)

    yield keep
    for relative in kept:
        if (saved / relative).is_dir():
            shutil.rmtree(shifted_run / relative)
        os.replace(saved / relative, shifted_run / relative)
    shutil.rmtree(saved)
    assert planned_jobs(shifted_run) == {}


@pytest.mark.parametrize(
    ("deleted", "rebuilt_by"),
    [
        (f"{C_DIR}/contrast/severity5.npz", "cifar10_c_blocks"),
        ("data/synthetic/cifar10.1_v6_data.npy", "synthetic_cifar10_1"),
        ("data/synthetic/cifar10.1_v6_labels.npy.md5", "synthetic_cifar10_1"),
        ("data/synthetic/CIFAR-10-C.tar", "synthetic_cifar10_c"),
        ("data/synthetic/CIFAR-10-C.tar.md5", "synthetic_cifar10_c"),
    ],
)
def test_a_deleted_file_of_the_outputs_table_is_planned_again(
    shifted_run, put_back, deleted, rebuilt_by
):
    put_back(deleted)
    (shifted_run / deleted).unlink()
    assert rebuilt_by in planned_jobs(shifted_run)


def test_swapped_severities_in_blocks_csv_stop_the_metrics_naming_the_file(shifted_run, put_back):
    table_path = f"{C_DIR}/blocks.csv"
    put_back(table_path)
    put_back("results")  # the failed metrics job's outputs are removed
    table = pd.read_csv(shifted_run / table_path)
    # Severities 1, 5, 1, 5 (two corruptions, 30 images a block) read 5, 1, 5, 1.
    table.assign(severity=table["severity"][::-1].to_numpy()).to_csv(
        shifted_run / table_path, index=False
    )
    result = snakemake(shifted_run, check=False)
    assert result.returncode != 0
    assert (
        f"{table_path} does not describe the blocks of {C_DIR}/test_set.npz: its row 1 says "
        "('contrast', 5, 0, 30)"
    ) in result.stdout + result.stderr


def test_another_sets_image_file_in_the_selections_place_is_named(shifted_run, put_back):
    selection = f"{C_DIR}/test_set.npz"
    put_back(selection)
    put_back("results")
    shutil.copyfile(shifted_run / "data/synthetic/cifar10.1/test_set.npz", shifted_run / selection)
    # As far as the metrics job, which writes both tables read below.
    result = snakemake(shifted_run, "results/metrics.csv", check=False)
    output = result.stdout + result.stderr
    # The inference job names it and the fix before any model runs on it: the run is listed as
    # failed with that line, and nothing is scored on the wrong images.
    message = f"{selection} is not a selection of blocks: it records none"
    assert message in output and f"Fix: delete {selection} and rerun snakemake" in output
    failed = pd.read_csv(shifted_run / "results/failed_runs.csv")
    assert set(failed["test_set"]) == {"cifar10-c"}
    assert failed["error"].str.startswith(message).all()
    metrics = pd.read_csv(shifted_run / "results/metrics.csv", dtype={"test_set": str})
    assert "cifar10-c" not in set(metrics["test_set"])


def test_the_robustness_files_are_removed_once_no_shifted_set_is_configured(shifted_run):
    stale = [
        "results/plots/corruption_severity.png",
        "results/plots/effective_robustness.png",
        "results/robustness.csv",
    ]
    result = snakemake(shifted_run, "--dry-run", "--config", "test_sets=[cifar10]")
    assert (
        "NOTE: 3 result file(s) of test sets, models or methods this configuration no longer asks "
        f"for would be removed, so that none is taken for a current result: {', '.join(stale)}."
    ) in result.stderr
    assert all((shifted_run / name).exists() for name in stale)  # a dry run changes nothing
