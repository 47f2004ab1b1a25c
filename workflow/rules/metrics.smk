# Metrics stage: every run's stored outputs (logits, or a CLIP model's embeddings) and timing, on
# every test set -> accuracy tables (per test set, corruption and severity, model, variant and
# scoring method) and results/summary.md. Needs PLAN and MODEL_WEIGHTS (common.smk) and
# TEST_SET_CHECK_INPUT / TEST_SET_ARCHIVE_MD5 (data.smk); never reruns inference.
# Before scoring, the test set, the class mapping CSV, every run file and every probe and class
# embeddings file are checked against the configuration (the test set and the mapping YAML are
# inputs for that, the requested runs, probe settings and prompts digest params), so a copied,
# restored or edited file stops the metrics instead of being reported. A run whose job failed
# (its files are failure records, inference/failed_job.py) is listed in failed_runs.csv and
# the summary instead of scored.

from cifar_zeroshot.analysis.verification import requested_run
from cifar_zeroshot.config.planning import dataset_size


rule metrics:
    input:
        # CIFAR-10's test set and its archive's MD5, when it is scored.
        unpack(
            lambda wildcards: (
                TEST_SET_CHECK_INPUT[config["dataset"]] if PLAN.test_sets.has_reference else {}
            )
        ),
        # Every run of every test set (PLAN.runs order) and each set's image set; which rows of
        # a blocked set's (CIFAR-10-C's) hold which corruption and severity.
        outputs=[PLAN.run_output_path(*run) for run in PLAN.runs],
        timing=[timing_path(*run) for run in PLAN.runs],
        images=[
            test_set_entry(name).images_path(config["dataset"])
            for name in PLAN.test_sets.test_sets
        ],
        blocks=[blocks_table_path(config["dataset"], name) for name in PLAN.test_sets.blocked],
        mapping="results/class_mapping.csv",
        mapping_yaml=config["class_mapping"],
        # The linear probe's scores of each test set (probe.smk), for the runs it reads; none
        # when it is off.
        probes=[probe_scores_path(*run) for run in PLAN.probe_score_runs],
        # Each CLIP model's class prompt embeddings (clip_text.smk).
        clip_texts=[clip_text_path(model) for model in PLAN.clip_models],
        # The few-shot probes (stats.smk), for the summary's "worth about k images" sentence.
        few_shot=[few_shot_path(*run) for run in PROBE_RUNS],
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
        # Each test set's results ranked per method, with their significance letters.
        leaderboard=report(
            "results/leaderboard.csv",
            caption="../report/leaderboard.rst",
            category="Result files",
        ),
        # The same rankings as a page of the report, its columns sortable.
        leaderboard_page=report(
            "results/tables/leaderboard.html",
            caption="../report/leaderboard_page.rst",
            category="Results",
            subcategory="Tables",
        ),
        reliability=report(
            "results/reliability.csv",
            caption="../report/reliability.rst",
            category="Result files",
        ),
        # The balanced methods' offsets, and per-class recall under each pooling, balanced or
        # not (methods/balanced.py).
        balancing=report(
            "results/balancing.csv",
            caption="../report/balancing.rst",
            category="Result files",
        ),
        per_class_poolings=report(
            "results/per_class_poolings.csv",
            caption="../report/per_class_poolings.rst",
            category="Result files",
        ),
        # The summary's paired comparisons and few-shot sentences, as a page of the report.
        statistics=report(
            "results/tables/statistics.html",
            caption="../report/statistics_page.rst",
            category="Results",
            subcategory="Tables",
        ),
        # The runs whose inference job failed (records.failed_run): listed, never scored; and
        # their files, for `snakemake --forcerun $(cat results/failed_runs.txt)`.
        failed_runs=report(
            "results/failed_runs.csv",
            caption="../report/failed_runs.rst",
            category="Failed runs",
        ),
        failed_targets="results/failed_runs.txt",
    log:
        "logs/metrics/metrics.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    params:
        pooling=config["pooling"],
        # The ECE's bins and the paired tests' significance level (analysis/paired_tests.py).
        calibration_bins=config["calibration_bins"],
        paired_significance=config["paired_significance"],
        dataset=config["dataset"],
        dataset_size=dataset_size(config),
        archive_md5=TEST_SET_ARCHIVE_MD5[config["dataset"]],  # None: read from the sidecar
        # Per test set (input.images order): the first N images each of its runs scores; and
        # the sets scored in blocks (input.blocks order).
        test_sets=list(PLAN.test_sets.test_sets),
        limits=[PLAN.test_sets.run_limit(name) for name in PLAN.test_sets.test_sets],
        blocked=PLAN.test_sets.blocked,
        # Per run (input.outputs order): its (test set, model, variant), and what its job was
        # asked to run (weights resolved as the facts say).
        runs=[list(run) for run in PLAN.runs],
        requested=[
            requested_run(
                model,
                MODEL_WEIGHTS[model],
                variant,
                config["dataset"],
                PLAN.test_sets.run_limit(test_set),
            ).to_params()
            for test_set, model, variant in PLAN.runs
        ],
        # Whose file each of input.probes and input.clip_texts must be, and what the probe
        # files must have been fitted with and the class embeddings encoded from.
        probe_runs=[list(run) for run in PLAN.probe_score_runs],
        probe_request=PLAN.probe_request.to_params(),
        clip_models=PLAN.clip_models,
        clip_prompts=config["clip_prompts"],
        clip_prompts_sha256=PLAN.prompts_sha256 or "",
        # What each test set's images and each model's weights are, in words (metrics.csv's
        # test_set_title and weights_title: what every figure says it was made from).
        test_set_titles=PLAN.test_sets.titles(config["dataset"]),
        weights_titles=PLAN.weights_titles,
        # Each model's published ImageNet-1k top-1 (a fraction, None where unknown), by model:
        # the leaderboard's reference column.
        published_top1=PLAN.published_top1,
    script:
        "../scripts/metrics.py"
