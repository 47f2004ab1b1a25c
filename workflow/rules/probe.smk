# Linear-probe stage (config linear_probe): for each run in PROBE_RUNS (common.smk), the
# penultimate features of the training set -> results/features/{model}/{variant}/train.parquet
# (one job per model and variant, on the inference rule's fast path and GPU resource), then a
# probe fitted on them and scored on the test features the inference job wrote ->
# results/probe/{model}/{variant}.parquet, and the fitted probe kept beside it ({variant}.fit.npz).
# Probe settings are params of the probe alone, so changing them refits without running any
# model; the class mapping is no input here. The rule shifted_probe applies the kept probe to
# each shifted test set's features: the probe is fitted on CIFAR-10's training features only.


use rule inference as train_features with:
    input:
        train_set=f"data/{config['dataset']}/train_set.npz",
    output:
        features="results/features/{model}/{variant}/train.parquet",
        timing="results/features/{model}/{variant}/train_timing.parquet",
    log:
        "logs/train_features/{model}/{variant}.log",
    wildcard_constraints:
        model=PROBED_MODEL_PATTERN,
        variant=PROBE_VARIANT_PATTERN,
    params:
        limit=None,  # every training image: `limit` is the test set's


rule linear_probe:
    input:
        train_features=rules.train_features.output.features,
        train_timing=rules.train_features.output.timing,
        test_features="results/features/{model}/{variant}/test.parquet",
        # Written with the test features, by the same job: the features must be its run's.
        test_timing="results/timing/{model}/{variant}.parquet",
        # Its digest must be the one the training features record.
        train_set=f"data/{config['dataset']}/train_set.npz",
    output:
        # First: the few-shot rule (stats.smk) reads the scores as output[0].
        scores="results/probe/{model}/{variant}.parquet",
        fit="results/probe/{model}/{variant}.fit.npz",  # records.probe_fit.probe_fit_path
    log:
        "logs/probe/{model}/{variant}.log",
    wildcard_constraints:
        model=PROBED_MODEL_PATTERN,
        variant=PROBE_VARIANT_PATTERN,
    conda:
        "../envs/benchmark.yaml"
    threads: config["threads"]
    resources:
        mem_mb=config["inference_mem_mb"],
        runtime=config["inference_runtime_min"],
    params:
        validation_fraction=config["linear_probe_validation_fraction"],
        regularisations=config["linear_probe_regularisations"],
        max_iterations=config["linear_probe_max_iterations"],
        seed=config["linear_probe_seed"],
    script:
        "../scripts/linear_probe.py"


# The probe fitted above scores a shifted set's features (shifted_inference.smk writes them):
# results/probe/{test_set}/{model}/{variant}.parquet. Its inputs are the kept probe and that
# set's files alone, so editing the corruption list reruns this for CIFAR-10-C, never a fit.
rule shifted_probe:
    input:
        probe_fit=rules.linear_probe.output.fit,
        features="results/features/{test_set}/{model}/{variant}/test.parquet",
        # Written with the features, by the same job: the features must be its run's.
        timing="results/timing/{test_set}/{model}/{variant}.parquet",
    output:
        "results/probe/{test_set}/{model}/{variant}.parquet",
    log:
        "logs/probe/{test_set}/{model}/{variant}.log",
    wildcard_constraints:
        test_set=SHIFTED_SET_PATTERN,
        model=PROBED_MODEL_PATTERN,
        variant=PROBE_VARIANT_PATTERN,
    conda:
        "../envs/benchmark.yaml"
    threads: 1
    resources:
        mem_mb=config["inference_mem_mb"],
        runtime=config["inference_runtime_min"],
    script:
        "../scripts/apply_probe.py"
