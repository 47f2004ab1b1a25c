"""Stored files that are not what the configuration asks for are refused, never reported.

Snakemake reruns what is stale by file times and its own records, not by what a file holds:
logits copied from another model, files put back from a run with another limit, an edited
label column, a cut test set and a stale or hand-edited class mapping all used to give metrics
(exit 0). Each test works on its own copy of one finished small run (conftest's
finished_small_run: synthetic data, 40 images, mobilenet_v3_small untrained).
"""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from run_files import cpu_request
from workflow_runner import REPO, SMALL_CONFIG, snakemake, write_config

from cifar_zeroshot.config.planning import plan_workflow
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.inference.job import run_inference

MODEL = "mobilenet_v3_small"
LOGITS = f"results/logits/cifar10/{MODEL}/fp32.parquet"
TIMING = f"results/timing/cifar10/{MODEL}/fp32.parquet"
TEST_SET = "data/synthetic/test_set.npz"


def _mtimes(folder: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in sorted(folder.rglob("*")) if path.is_file()}


def _refused(workdir: Path, *args: str) -> str:
    """Run snakemake, which must fail; its stderr."""
    result = snakemake(workdir, *args, check=False)
    assert result.returncode != 0, result.stderr[-3000:]
    return result.stderr


def _fix(logits: str, timing: str) -> str:
    return (
        f"Fix: rerun that job with `snakemake --forcerun {logits}` (with your usual "
        f"--configfile/--config), or delete {logits} and {timing} and rerun snakemake."
    )


@pytest.mark.e2e
def test_another_models_files_are_not_reported_under_this_model(finished_small_run):
    workdir = finished_small_run
    logits, timing = LOGITS.replace(MODEL, "squeezenet1_1"), TIMING.replace(MODEL, "squeezenet1_1")
    for source, target in ((LOGITS, logits), (TIMING, timing)):
        (workdir / target).parent.mkdir(parents=True)
        shutil.copyfile(workdir / source, workdir / target)
    write_config(workdir, {**SMALL_CONFIG, "models": ["squeezenet1_1"]})
    stderr = _refused(workdir)
    assert (
        f"ERROR: {logits} is not the run the configuration asks for: model is "
        f"'mobilenet_v3_small', expected 'squeezenet1_1'. It comes from another run (a file "
        "copied, restored or edited), so metrics from it would not describe this configuration. "
        f"{_fix(logits, timing)}"
    ) in stderr
    assert not (workdir / "results/metrics.csv").exists()


@pytest.mark.e2e
def test_files_put_back_from_a_run_with_another_limit_are_refused(finished_small_run, tmp_path):
    workdir = finished_small_run
    run_info = (workdir / "results/run_info.yaml").stat().st_mtime_ns
    # The files a run with limit 20 wrote, put back over those of this run (limit null).
    stale = cpu_request(
        MODEL,
        workdir / TEST_SET,
        tmp_path / "stale",
        limit=20,
        batch_size=16,
        threads=1,
        warmup_batches=0,
    )
    run_inference(stale)
    shutil.copyfile(stale.logits_path, workdir / LOGITS)
    shutil.copyfile(stale.timing_path, workdir / TIMING)

    stderr = _refused(workdir, "--keep-going")
    assert (
        f"ERROR: {LOGITS} is not the run the configuration asks for: limit is 20, expected None; "
        "image_count is 20, expected 40; test_set_sha256 is '"
    ) in stderr
    assert f"(the images of {TEST_SET} after the limit). It comes from another run" in stderr
    assert not (workdir / "results/metrics.csv").exists()
    # run_info.yaml waits for verified metrics (even with --keep-going): not rewritten.
    assert (workdir / "results/run_info.yaml").stat().st_mtime_ns == run_info


@pytest.mark.e2e
def test_an_edited_label_column_is_refused(finished_small_run):
    workdir = finished_small_run
    table = pq.read_table(workdir / LOGITS)
    labels = table.column("label").to_numpy()
    edited = table.set_column(1, table.schema.field("label"), [pa.array((labels + 1) % 10)])
    pq.write_table(edited.replace_schema_metadata(table.schema.metadata), workdir / LOGITS)
    first = int(np.load(workdir / TEST_SET)["labels"][0])
    stderr = _refused(workdir)
    assert (
        f"ERROR: {LOGITS} has label {(first + 1) % 10} for image_index 0, but {TEST_SET} says "
        f"{first} (40 of 40 labels differ): the file was edited. {_fix(LOGITS, TIMING)}"
    ) in stderr


@pytest.mark.e2e
@pytest.mark.parametrize("limit", [None, 20])
def test_a_cut_test_set_is_refused_before_any_job_and_not_blamed_on_the_limit(
    finished_small_run, limit
):
    workdir = finished_small_run
    arrays = dict(np.load(workdir / TEST_SET))
    with open(workdir / TEST_SET, "wb") as out:
        np.savez(out, **arrays | {"images": arrays["images"][:10], "labels": arrays["labels"][:10]})
    write_config(workdir, {**SMALL_CONFIG, "limit": limit})
    results = _mtimes(workdir / "results")
    stderr = _refused(workdir)
    assert stderr.strip() == (
        f"ERROR: Test set {TEST_SET} holds 10 images, but the archive it was read from has 40: "
        f"the file was cut or altered. Fix: delete {TEST_SET} and rerun snakemake to rebuild it "
        "from the archive."
    )
    assert _mtimes(workdir / "results") == results  # no job ran, nothing was deleted


@pytest.mark.e2e
def test_a_class_mapping_path_that_does_not_exist_is_refused_before_any_job(finished_small_run):
    workdir = finished_small_run
    results = _mtimes(workdir / "results")
    stderr = _refused(workdir, "--config", "class_mapping=config/nope.yaml")
    assert (
        "config key 'class_mapping': config/nope.yaml is not an existing file (relative paths "
        f"start at {workdir}). Fix: point it at a mapping file"
    ) in stderr
    assert _mtimes(workdir / "results") == results


@pytest.mark.e2e
def test_a_hand_edited_class_mapping_csv_is_refused(finished_small_run):
    workdir = finished_small_run
    csv = workdir / "results/class_mapping.csv"
    table = pd.read_csv(csv)
    table.loc[table["imagenet_index"] == 281, "cifar_class"] = "dog"  # tabby, a cat
    table.to_csv(csv, index=False)
    stderr = _refused(workdir)
    assert (
        "ERROR: results/class_mapping.csv does not match the class mapping "
        "config/class_mapping.yaml: cat lacks ImageNet [281] of the YAML; dog has ImageNet [281] "
        "only in the CSV. It was edited by hand or comes from another mapping file. Fix: delete "
        "results/class_mapping.csv and rerun snakemake"
    ) in stderr


def test_plan_refuses_a_class_mapping_path_that_does_not_exist(tmp_path, monkeypatch):
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    config = {key: spec.get("default") for key, spec in schema["properties"].items()}
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="'class_mapping': config/class_mapping.yaml is not an"):
        plan_workflow(config)
    (tmp_path / "config").mkdir()
    (tmp_path / "config/class_mapping.yaml").write_text("classes: {}\n")
    assert plan_workflow(config).model_runs  # its content is checked by the class_mapping rule
