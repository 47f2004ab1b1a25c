"""The CLIP path end to end, offline: an untrained CLIP model beside a classifier.

Image job, text job, prompt-similarity scoring, plots and the report, on the finished small run
(its classifier is not rerun) with a two-template prompts file to keep the text job short. The
same run holds an untrained timm model (its one inference job costs seconds), so timm's path is
checked end to end without a run of its own.
"""

import csv
import json
import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from workflow_runner import SMALL_CONFIG, copy_finished_run, planned_jobs, snakemake, write_config

from cifar_zeroshot.methods.clip.prompts import load_prompts, prompts_digest
from cifar_zeroshot.methods.clip.text_job import TEXT_METADATA_KEY
from cifar_zeroshot.records.embeddings import read_embeddings
from cifar_zeroshot.records.logits import read_logits_facts

pytestmark = pytest.mark.e2e

CLIP = "clip:ViT-B-32/openai"
SLUG = "clip-ViT-B-32.openai"
PROMPTS = {
    "templates": ["a photo of a {}.", "a blurry photo of the {}."],
    "classes": {
        name: name
        for name in [
            "airplane", "automobile", "bird", "cat", "deer",
            "dog", "frog", "horse", "ship", "truck",
        ]
    },
}  # fmt: skip
IMAGE_JOBS = {"inference", "clip_inference"}
TIMM = "timm:test_vit.r160_in1k"  # 371,240 parameters: the smallest timm model with a tag
TIMM_SLUG = "timm-test_vit.r160_in1k"
TEXT = f"results/clip_text/{SLUG}.parquet"
# The fixes below are followed as far as the metrics job, which writes the file they check: the
# jobs after it draw figures of files it has read, and none reads the class embeddings.
METRICS = "results/metrics.csv"


@pytest.fixture(scope="module")
def clip_run(tmp_path_factory, _pristine_small_run):
    workdir = copy_finished_run(_pristine_small_run, tmp_path_factory.mktemp("clip") / "run")
    (workdir / "test-prompts.yaml").write_text(yaml.safe_dump(PROMPTS))
    config = {
        **SMALL_CONFIG,
        "models": [*SMALL_CONFIG["models"], CLIP, TIMM],
        "clip_prompts": "test-prompts.yaml",
    }
    write_config(workdir, config)
    # The classifier's run is finished: only the CLIP and timm jobs and what reads them are
    # planned (one inference job: the timm model's).
    jobs = planned_jobs(workdir)
    assert jobs.get("clip_inference") == 1 and jobs.get("clip_text") == 1
    assert jobs.get("inference") == 1
    snakemake(workdir)
    return workdir


def _metrics(workdir):
    with open(workdir / "results/metrics.csv", newline="") as handle:
        # The balanced variants (docs/balanced-zero-shot.md) are tested on their own.
        return {
            (row["model"], row["method"]): row
            for row in csv.DictReader(handle)
            if "+balanced" not in row["method"]
        }


def test_clip_rows_sit_beside_the_classifier_with_their_own_columns(clip_run):
    metrics = _metrics(clip_run)
    assert set(metrics) == {
        ("mobilenet_v3_small", "class_mapping"),
        (SLUG, "prompt_similarity"),
        (TIMM_SLUG, "class_mapping"),
    }
    row = metrics[SLUG, "prompt_similarity"]
    assert row["weights"] == "none" and row["prompt_templates"] == "2"
    for empty in ("pooling", "top1_max_logit", "unrestricted_top1", "outside_mapped_share"):
        assert row[empty] == "", empty
    for filled in ("top1", "top1_ci_low", "top5", "images_per_second", "host_peak_rss_mb"):
        assert row[filled] != "", filled
    summary = (clip_run / "results/summary.md").read_text()
    assert f"| {SLUG} | fp32 | prompt_similarity |" in summary
    for plot in ("accuracy_vs_speed", "accuracy", "speed", f"confusion/{SLUG}-fp32"):
        assert (clip_run / f"results/plots/{plot}.png").stat().st_size > 0


def test_timm_row_sits_beside_them_with_its_size_and_flops(clip_run):
    metrics = _metrics(clip_run)
    row = metrics[TIMM_SLUG, "class_mapping"]
    assert row["weights"] == "none" and row["pooling"] == "max_logit"
    # timm's own count; 2 x 0.0376 GMACs at its 160 x 160 input (FLOPs: 2 per multiply-add).
    assert row["parameters"] == "371240"
    assert float(row["gflops_per_image"]) == pytest.approx(0.0753, rel=0.01)
    for name, row in metrics.items():  # every model is counted: torchvision, CLIP, timm
        assert int(row["parameters"]) > 0 and float(row["gflops_per_image"]) > 0, name
    assert metrics["mobilenet_v3_small", "class_mapping"]["parameters"] == "2542856"
    summary = (clip_run / "results/summary.md").read_text()
    assert f"| {TIMM_SLUG} | fp32 | class_mapping | none |" in summary
    assert "| 0.37 | 0.075 |" in summary
    for plot in ("accuracy_vs_gflops", f"confusion/{TIMM_SLUG}-fp32"):
        assert (clip_run / f"results/plots/{plot}.png").stat().st_size > 0
    facts = read_logits_facts(clip_run / f"results/logits/cifar10/{TIMM_SLUG}/fp32.parquet")
    assert facts.preprocess_spec["resize_size"] == 168  # floor(160 / crop_pct 0.95)
    assert facts.preprocess_spec["crop_size"] == 160


def test_scores_equal_an_independent_numpy_computation(clip_run):
    images = read_embeddings(clip_run / f"results/embeddings/cifar10/{SLUG}/fp32.parquet")
    table = pq.read_table(clip_run / f"results/clip_text/{SLUG}.parquet")
    text = np.array(table.column("embedding").to_pylist(), dtype=np.float64)
    image = images.values.astype(np.float64)
    image /= np.linalg.norm(image, axis=1, keepdims=True)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    predicted = np.argmax(image @ text.T, axis=1)
    assert float(_metrics(clip_run)[SLUG, "prompt_similarity"]["top1"]) == pytest.approx(
        np.mean(predicted == images.labels)
    )
    confusion = pd.read_csv(clip_run / "results/confusion.csv")
    ours = (confusion["model"] == SLUG) & (confusion["method"] == "prompt_similarity")
    counts = confusion[ours].pivot(index="true_class", columns="predicted_class", values="count")
    classes = list(PROMPTS["classes"])
    expected = np.zeros((10, 10), int)
    np.add.at(expected, (images.labels.astype(int), predicted), 1)
    assert (counts.loc[classes, classes].to_numpy() == expected).all()


def test_a_prompt_edit_reruns_the_text_job_and_no_image_job(clip_run):
    prompts = clip_run / "test-prompts.yaml"
    edited = {**PROMPTS, "templates": [*PROMPTS["templates"], "a good photo of a {}."]}
    original = prompts.read_text()
    prompts.write_text(yaml.safe_dump(edited))
    try:
        jobs = planned_jobs(clip_run)
    finally:
        prompts.write_text(original)
    assert jobs.get("clip_text") == 1 and "metrics" in jobs
    assert not set(jobs) & IMAGE_JOBS


def test_the_report_holds_the_clip_run(clip_run):
    snakemake(clip_run, "--report", "results/report.html")
    html = (clip_run / "results/report.html").read_text(encoding="utf-8")
    assert SLUG in html
    assert TIMM_SLUG in html and "accuracy_vs_gflops" in html


def _refused(workdir) -> str:
    """Run snakemake, which must fail without leaving metrics; its stderr."""
    result = snakemake(workdir, check=False)
    assert result.returncode != 0, result.stderr[-3000:]
    assert not (workdir / "results/metrics.csv").exists()
    return result.stderr


def _fix() -> str:
    return (
        f"Fix: rerun that job with `snakemake --forcerun {TEXT}` (with your usual "
        f"--configfile/--config), or delete {TEXT} and rerun snakemake."
    )


def test_class_embeddings_of_other_prompts_are_refused_and_their_fix_works(clip_run, tmp_path):
    # Issue 24: encoded from a one-template file and put back, they were reported as
    # "1 templates per class" in a run configured with another prompts file.
    other = copy_finished_run(clip_run, tmp_path / "other")
    (other / "one-template.yaml").write_text(yaml.safe_dump({**PROMPTS, "templates": ["a {}."]}))
    snakemake(other, TEXT, "--config", "clip_prompts=one-template.yaml")
    workdir = copy_finished_run(clip_run, tmp_path / "copy")
    shutil.copyfile(other / TEXT, workdir / TEXT)
    held = prompts_digest(load_prompts(other / "one-template.yaml"))
    expected = prompts_digest(load_prompts(workdir / "test-prompts.yaml"))
    assert (
        f"ERROR: {TEXT} is not the class prompt embeddings the configuration asks for: "
        f"prompts_sha256 is '{held[:12]}...', expected '{expected[:12]}...' (it holds the "
        "prompts of one-template.yaml, 1 templates per class; the configuration asks for "
        "test-prompts.yaml). It comes from another run (a file copied, restored or edited), so "
        f"metrics from it would not describe this configuration. {_fix()}"
    ) in _refused(workdir)
    (workdir / TEXT).unlink()  # the fix the message gives, run as far as the metrics
    snakemake(workdir, METRICS)
    assert _metrics(workdir)[SLUG, "prompt_similarity"]["prompt_templates"] == "2"


def test_another_models_class_embeddings_are_refused_and_their_fix_works(clip_run, tmp_path):
    # Issue 24: "has no class prompt embeddings ... Fix: rerun snakemake", which repeated it.
    workdir = copy_finished_run(clip_run, tmp_path / "copy")
    table = pq.read_table(workdir / TEXT)
    metadata = dict(table.schema.metadata)
    record = json.loads(metadata[TEXT_METADATA_KEY]) | {"model": "clip-RN50.openai"}
    metadata[TEXT_METADATA_KEY] = json.dumps(record).encode()
    pq.write_table(table.replace_schema_metadata(metadata), workdir / TEXT)
    assert (
        f"ERROR: {TEXT} is not the class prompt embeddings the configuration asks for: model is "
        f"'clip-RN50.openai', expected '{SLUG}'. It comes from another run"
    ) in _refused(workdir)
    snakemake(workdir, METRICS, "--forcerun", TEXT)  # the fix the message gives, to the metrics
    assert _metrics(workdir)[SLUG, "prompt_similarity"]["prompt_templates"] == "2"


@pytest.mark.parametrize(
    ("deleted", "rebuilt_by"),
    [
        (f"results/embeddings/cifar10/{SLUG}/fp32.parquet", "clip_inference"),
        (f"results/clip_text/{SLUG}.parquet", "clip_text"),
    ],
)
def test_a_missing_clip_file_is_rebuilt_by_a_plain_rerun(clip_run, tmp_path, deleted, rebuilt_by):
    workdir = copy_finished_run(clip_run, tmp_path / "copy")
    (workdir / deleted).unlink()
    jobs = planned_jobs(workdir)
    assert jobs.get(rebuilt_by) == 1 and jobs.get("metrics") == 1, jobs
    assert "inference" not in jobs  # the classifier beside it is not rerun
