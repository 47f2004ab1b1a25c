"""Where every file of the workflow lives: one function per kind of file.

The rules, the job plan, the workspace checks and the scripts all take their paths from here,
so a path is written once. Called with wildcard names ("{test_set}", "{model}", "{variant}")
a function gives the rule's pattern; with values, the file.

Every run of a test set lives one folder per test set deep:
results/<kind>/<test set>/<model>/<variant>.parquet, CIFAR-10's as every other set's.
"""

from cifar_zeroshot.core.choices import REFERENCE_TEST_SET

# What a run writes per image: a classifier's logits, a CLIP model's image embeddings, or (for a
# model the linear probe alone scores) its penultimate features.
LOGITS = "logits"
EMBEDDINGS = "embeddings"
FEATURES = "features"
OUTPUT_KINDS: tuple[str, ...] = (LOGITS, EMBEDDINGS, FEATURES)


def test_images_path(dataset: str, test_set: str) -> str:
    """A test set's image set: CIFAR-10's at the dataset's root, every other set in a folder."""
    if test_set == REFERENCE_TEST_SET:
        return f"data/{dataset}/test_set.npz"
    return f"data/{dataset}/{test_set}/test_set.npz"


def blocks_table_path(dataset: str, test_set: str) -> str:
    """Which rows of a blocked set's image set hold which corruption and severity (CSV)."""
    return f"data/{dataset}/{test_set}/blocks.csv"


def train_images_path(dataset: str) -> str:
    """CIFAR-10's training images (the linear probe is fitted on their features)."""
    return f"data/{dataset}/train_set.npz"


def test_features_path(test_set: str, model: str, variant: str) -> str:
    """A run's penultimate features of the test set's images (the linear probe scores them)."""
    return f"results/features/{test_set}/{model}/{variant}/test.parquet"


def run_output_path(kind: str, test_set: str, model: str, variant: str) -> str:
    """A run's per-image file: logits, embeddings, or (probe-only models) test features."""
    if kind == FEATURES:
        return test_features_path(test_set, model, variant)
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"unknown run output kind {kind!r}; one of {OUTPUT_KINDS}")
    return f"results/{kind}/{test_set}/{model}/{variant}.parquet"


def timing_path(test_set: str, model: str, variant: str) -> str:
    return f"results/timing/{test_set}/{model}/{variant}.parquet"


def inference_log_path(test_set: str, model: str, variant: str) -> str:
    return f"logs/inference/{test_set}/{model}/{variant}.log"


def train_features_path(model: str, variant: str) -> str:
    return f"results/features/{model}/{variant}/train.parquet"


def train_timing_path(model: str, variant: str) -> str:
    return f"results/features/{model}/{variant}/train_timing.parquet"


def probe_scores_path(test_set: str, model: str, variant: str) -> str:
    """The linear probe's scores of a test set's features (fitted on CIFAR-10's training set)."""
    return f"results/probe/{test_set}/{model}/{variant}.parquet"


def probe_fit_path(model: str, variant: str) -> str:
    """The fitted probe, kept so that it scores every test set without a refit."""
    return f"results/probe/{model}/{variant}.fit.npz"


def few_shot_path(model: str, variant: str) -> str:
    return f"results/few_shot/{model}/{variant}.csv"


def clip_text_path(model: str) -> str:
    """A CLIP model's class prompt embeddings."""
    return f"results/clip_text/{model}.parquet"


# With CIFAR-10-C only: the robustness rule lists it then, and the workflow removes it otherwise.
CORRUPTION_SEVERITY_PLOT = "results/plots/corruption_severity.png"
