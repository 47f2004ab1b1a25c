"""bench/workflow_timing.py: where each inference job's time went, read from its timing file."""

import importlib.util
import sys

import pytest
from run_files import make_facts, make_summary, timing_batches
from workflow_runner import REPO

from cifar_zeroshot.records.logits import write_timing

SCRIPT = REPO / "bench" / "workflow_timing.py"


@pytest.fixture(scope="module")
def workflow_timing():
    spec = importlib.util.spec_from_file_location("workflow_timing", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["workflow_timing"] = module
    spec.loader.exec_module(module)
    return module


def test_phases_of_a_job_come_from_its_timing_file(tmp_path, workflow_timing):
    path = tmp_path / "timing.parquet"
    # 40 images: one warm-up batch of 0.31 s, one timed batch of 0.31 s; 40 images end to end
    # in 0.40 s, so the flush took 0.09 s; 50 J of GPU energy over the loop.
    summary = make_summary(
        end_to_end_images_per_second=100.0, startup_seconds=4.5, gpu_energy_joules=50.0
    )
    write_timing(path, timing_batches(40), make_facts("alexnet", image_count=40), summary)
    phases = workflow_timing.job_phases(path)
    assert phases.job == "alexnet/fp32"
    assert phases.images == 40
    assert phases.startup_s == 4.5
    assert phases.load_s == summary.model_load_seconds
    assert phases.warmup_s == pytest.approx(0.31)
    assert phases.loop_s == pytest.approx(0.31)
    assert phases.flush_s == pytest.approx(0.40 - 0.31)
    assert phases.gpu_energy_j == 50.0


def test_the_table_leaves_missing_figures_empty(tmp_path, workflow_timing, capsys):
    path = tmp_path / "timing.parquet"
    write_timing(path, timing_batches(40), make_facts("vgg16", image_count=40), make_summary())
    workflow_timing.print_table(12.5, [workflow_timing.job_phases(path)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "whole workflow: 12.5 s wall, 1 inference jobs"
    cells = [cell.strip() for cell in lines[-1].split("|")]
    assert cells[0] == "vgg16/fp32"
    assert cells[-3:] == ["", "", ""]  # no end-to-end rate, so no flush; no GPU energy
