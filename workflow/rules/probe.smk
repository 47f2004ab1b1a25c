# Linear-probe stage (config linear_probe): for each run in PROBE_RUNS (common.smk), the
# penultimate features of the training set -> results/features/{model}/{variant}/train.parquet
# (one job per model and variant, on the inference rule's fast path and GPU resource), then a
# probe fitted on them and scored on CIFAR-10's test features ->
# results/probe/cifar10/{model}/{variant}.parquet, the fitted probe kept as
# results/probe/{model}/{variant}.fit.npz (cifar_zeroshot.core.paths). Probe settings are params
# of the probe alone, so changing them refits without running any model; the class mapping is no
# input here. The rule probe_scores applies the kept probe to every other test set's features:
# the probe is fitted on CIFAR-10's training features only.

# The pattern of a probed run's files; CIFAR-10's, which the probe is fitted beside.
PROBED = {"model": "{model}", "variant": "{variant}"}
PROBED_CIFAR10 = {"test_set": REFERENCE} | PROBED


use rule inference as train_features with:
    input:
        unpack(lambda wc: PLAN.weights_file_input(wc.model)),
        train_set=train_images_path(config["dataset"]),
    output:
        features=train_features_path(**PROBED),
        timing=train_timing_path(**PROBED),
    log:
        "logs/train_features/{model}/{variant}.log",
    wildcard_constraints:
        model=PROBED_MODEL_PATTERN,
        variant=PROBE_VARIANT_PATTERN,
    params:
        limit=None,  # every training image: `limit` is the test set's
        blocked=False,  # the training set, never a selection of blocks


rule linear_probe:
    input:
        train_features=rules.train_features.output.features,
        train_timing=rules.train_features.output.timing,
        test_features=test_features_path(**PROBED_CIFAR10),
        # Written with the test features, by the same job: the features must be its run's.
        test_timing=timing_path(**PROBED_CIFAR10),
        # Its digest must be the one the training features record.
        train_set=train_images_path(config["dataset"]),
    output:
        # First: the few-shot rule (stats.smk) reads the scores as output[0].
        scores=probe_scores_path(**PROBED_CIFAR10),
        fit=probe_fit_path(**PROBED),
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


# The probe fitted above scores every other test set's features (inference.smk writes them):
# results/probe/{test_set}/{model}/{variant}.parquet. Its inputs are the kept probe and that
# set's files alone, so editing the corruption list reruns this for CIFAR-10-C, never a fit.
rule probe_scores:
    input:
        probe_fit=rules.linear_probe.output.fit,
        features=test_features_path(**RUN),
        # Written with the features, by the same job: the features must be its run's.
        timing=timing_path(**RUN),
        # The fit must reproduce its own CIFAR-10 scores from these features before it is used.
        reference_scores=rules.linear_probe.output.scores,
        reference_features=test_features_path(**PROBED_CIFAR10),
    output:
        probe_scores_path(**RUN),
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
