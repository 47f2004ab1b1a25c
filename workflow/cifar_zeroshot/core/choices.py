"""Every allowed value of a configuration choice, defined once.

The code imports these; tests/config/test_planning.py checks that the config schema
(workflow/schemas/config.schema.yaml, which holds every default) allows exactly these values.
"""

from cifar_zeroshot.core import runtime_table

DATASETS: tuple[str, ...] = ("cifar10", "synthetic")
DEVICES: tuple[str, ...] = ("auto", "cuda", "cpu")  # auto: CUDA when present, else the CPU
# Every precision some runtime runs (core.runtime_table); fp32 (TF32 off) is the reference.
PRECISIONS: tuple[str, ...] = tuple(
    dict.fromkeys(p for runtime in runtime_table.RUNTIMES.values() for p in runtime.precisions)
)
REFERENCE_PRECISION = "fp32"
PREPROCESSINGS: tuple[str, ...] = ("weights", "labreport")
POOLINGS: tuple[str, ...] = ("max_logit", "mean_prob", "sum_prob")
# What runs the forward pass: the runtime table's names (core.runtime_table holds their facts).
RUNTIMES: tuple[str, ...] = tuple(runtime_table.RUNTIMES)
REFERENCE_RUNTIME = runtime_table.REFERENCE_RUNTIME

# Images in CIFAR-10's test batch (the archive's test_batch.bin).
CIFAR10_TEST_IMAGES = 10_000
# Images in CIFAR-10's five training batches together (data_batch_1.bin .. data_batch_5.bin).
CIFAR10_TRAIN_IMAGES = 50_000
# The weights value that builds a model untrained (from a fixed seed), and the weights label its
# run facts record.
NONE_WEIGHTS = "none"

# The built-in test sets' names (the registry, data.test_sets, says what each is): CIFAR-10's own,
# and two distribution shifts of it (CIFAR-10.1, a new sample of the same classes; CIFAR-10-C,
# CIFAR-10's test images corrupted).
REFERENCE_TEST_SET = "cifar10"
CIFAR10_1 = "cifar10.1"
CIFAR10_C = "cifar10-c"
# CIFAR-10-C's corruptions: the 15 of the benchmark (Hendrycks and Dietterich 2019), then the 4
# extra ones it ships for validation; `corruptions: all` selects all 19.
BENCHMARK_CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
)
EXTRA_CORRUPTIONS: tuple[str, ...] = ("gaussian_blur", "saturate", "spatter", "speckle_noise")
CORRUPTIONS: tuple[str, ...] = BENCHMARK_CORRUPTIONS + EXTRA_CORRUPTIONS
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)
# The corruptions the synthetic CIFAR-10-C stand-in holds: simple transforms of the synthetic
# test set, named after the benchmark's corruptions they imitate.
SYNTHETIC_CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise",
    "defocus_blur",
    "brightness",
    "contrast",
    "pixelate",
)
