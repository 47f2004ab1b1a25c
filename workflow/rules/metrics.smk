# Metrics stage: every run's stored outputs (logits, or a CLIP model's embeddings) and timing ->
# accuracy tables (per model, variant and
# scoring method) and results/summary.md. Needs RUNS and MODEL_WEIGHTS (common.smk) and
# TEST_SET_CHECK_INPUT / TEST_SET_ARCHIVE_MD5 (data.smk); never reruns inference.
# Before scoring, the test set, the class mapping CSV, every run file and every probe and class
# embeddings file are checked against the configuration (the test set and the mapping YAML are
# inputs for that, the requested runs, probe settings and prompts digest params), so a copied,
# restored or edited file stops the metrics instead of being reported.

from cifar_zeroshot.analysis.verification import requested_run
from cifar_zeroshot.config.planning import dataset_size, run_output_path
from cifar_zeroshot.config.shifted_sets import (
    selection_table_path,
    shifted_images_path,
    shifted_probe_path,
    shifted_timing_path,
)
from cifar_zeroshot.core.choices import CIFAR10_1, CIFAR10_C


rule metrics:
    input:
        unpack(lambda wildcards: TEST_SET_CHECK_INPUT[config["dataset"]]),
        outputs=[PLAN.run_output_path(model, variant) for model, variant in RUNS],
        timing=[f"results/timing/{model}/{variant}.parquet" for model, variant in RUNS],
        mapping="results/class_mapping.csv",
        mapping_yaml=config["class_mapping"],
        # The linear probe's scores (probe.smk), for the runs it reads; none when it is off.
        probes=[f"results/probe/{model}/{variant}.parquet" for model, variant in PROBE_RUNS],
        # Each CLIP model's class prompt embeddings (clip_text.smk).
        clip_texts=[f"results/clip_text/{model}.parquet" for model in PLAN.clip_models],
        # The few-shot probes (stats.smk), for the summary's "worth about k images" sentence.
        few_shot=[f"results/few_shot/{model}/{variant}.csv" for model, variant in PROBE_RUNS],
        # The shifted test sets' runs (shifted_inference.smk), their image sets, and which rows
        # of CIFAR-10-C's hold which corruption and severity; none for CIFAR-10 alone.
        shifted_outputs=[PLAN.shifted_output_path(*run) for run in PLAN.shifted_runs],
        shifted_timing=[shifted_timing_path(*run) for run in PLAN.shifted_runs],
        shifted_images=[
            shifted_images_path(config["dataset"], test_set) for test_set in PLAN.shift.test_sets
        ],
        shifted_blocks=(
            [selection_table_path(config["dataset"])] if CIFAR10_C in PLAN.shift.test_sets else []
        ),
        # The CIFAR-10 probe's scores of each shifted set (probe.smk, rule shifted_probe).
        shifted_probes=[shifted_probe_path(*run) for run in PLAN.shifted_probe_runs],
    output:
        metrics=report(
            "results/metrics.csv", caption="../report/metrics.rst", category="Result files"
        ),
        per_class=report(
            "results/per_class.csv",
            caption="../report/per_class.rst",
            category="Result files",
        ),
        confusion=report(
            "results/confusion.csv",
            caption="../report/confusion.rst",
            category="Result files",
        ),
        top_confusions=report(
            "results/top_confusions.csv",
            caption="../report/top_confusions.rst",
            category="Result files",
        ),
        summary=report(
            "results/summary.md", caption="../report/summary.rst", category="Result files"
        ),
        paired_tests=report(
            "results/paired_tests.csv",
            caption="../report/paired_tests.rst",
            category="Result files",
        ),
        reliability=report(
            "results/reliability.csv",
            caption="../report/reliability.rst",
            category="Result files",
        ),
        # The summary's paired comparisons and few-shot sentences, as a page of the report.
        statistics=report(
            "results/tables/statistics.html",
            caption="../report/statistics_page.rst",
            category="Results",
            subcategory="Tables",
        ),
    log:
        "logs/metrics/metrics.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        pooling=config["pooling"],
        # The ECE's bins and the paired tests' significance level (report/paired_tests.py).
        calibration_bins=config["calibration_bins"],
        paired_significance=config["paired_significance"],
        dataset=config["dataset"],
        dataset_size=dataset_size(config),
        limit=config["limit"],
        archive_md5=TEST_SET_ARCHIVE_MD5[config["dataset"]],  # None: read from the sidecar
        # What each job in RUNS order was asked to run (weights resolved as the facts say).
        requested=[
            requested_run(
                model, MODEL_WEIGHTS[model], variant, config["dataset"], config["limit"]
            ).to_params()
            for model, variant in RUNS
        ],
        # Whose file each of input.probes and input.clip_texts must be, and what the probe
        # files must have been fitted with and the class embeddings encoded from.
        probe_runs=PROBE_RUNS,
        probe_request=PLAN.probe_request.to_params(),
        clip_models=PLAN.clip_models,
        clip_prompts=config["clip_prompts"],
        clip_prompts_sha256=PLAN.prompts_sha256 or "",
        # Per shifted run (in PLAN.shifted_runs order): its test set, and what its job was asked.
        shifted_sets=list(PLAN.shift.test_sets),
        shifted_runs=[test_set for test_set, _, _ in PLAN.shifted_runs],
        shifted_requested=[
            requested_run(
                model,
                MODEL_WEIGHTS[model],
                variant,
                config["dataset"],
                PLAN.shift.shift_limit if test_set == CIFAR10_1 else None,
            ).to_params()
            for test_set, model, variant in PLAN.shifted_runs
        ],
        shift_limit=PLAN.shift.shift_limit,
        # Whose file each of input.shifted_probes must be: (test set, model, variant).
        shifted_probe_runs=PLAN.shifted_probe_runs,
    script:
        "../scripts/metrics.py"
