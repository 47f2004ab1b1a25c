"""The dry run without timm's published table (an own copy named but absent, so no network is
tried): trained timm models plan, their published top-1 empty, and the dry run says why and how
to fix it once; `max_params_m` on a timm collection is refused in one line with the fix."""

import pytest
from workflow_runner import TEST_CONFIG, copy_workflow, snakemake

from cifar_zeroshot.models.timm.published import TIMM_RESULTS_VARIABLE

WARNING = "WARNING: timm's published ImageNet-1k top-1 of the planned timm models is unknown"


@pytest.mark.e2e
def test_a_dry_run_without_the_table_warns_once_and_refuses_max_params_m(tmp_path, monkeypatch):
    absent = tmp_path / "absent-results-imagenet.csv"
    (tmp_path / "run").mkdir()
    (tmp_path / "filtered").mkdir()
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(absent))
    models = ["squeezenet1_1", "timm:resnet50.a1_in1k"]
    workdir = copy_workflow(
        tmp_path / "run", {**TEST_CONFIG, "models": models, "weights": "DEFAULT"}
    )
    planned = snakemake(workdir, "--dry-run")
    assert planned.stderr.count(WARNING) == 1
    assert f"{absent} (named by ${TIMM_RESULTS_VARIABLE}), which is absent" in planned.stderr
    assert "Traceback" not in planned.stderr

    collection = {"collection": "timm:resnet*.a1_in1k", "max_params_m": 30}
    copy = copy_workflow(tmp_path / "filtered", {**TEST_CONFIG, "models": [collection]})
    refused = snakemake(copy, "--dry-run", check=False)
    assert refused.returncode != 0
    problem = "config key 'models': collection timm:resnet*.a1_in1k: max_params_m filters by"
    assert refused.stderr.count(problem) == 1
    assert refused.stderr.rstrip().endswith("or drop max_params_m.")
    assert "Traceback" not in refused.stderr
