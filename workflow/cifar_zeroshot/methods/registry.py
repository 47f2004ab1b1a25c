"""Every scoring method this workflow knows, in the order their columns appear in metrics.csv."""

from cifar_zeroshot.core.choices import POOLINGS
from cifar_zeroshot.methods.balanced import balanced_variant
from cifar_zeroshot.methods.balancing import BALANCING_FITS
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.methods.clip.method import PromptSimilarityMethod
from cifar_zeroshot.methods.interface import MethodInputs, ScoringMethod
from cifar_zeroshot.methods.probe.method import LinearProbeMethod

# The methods that score without training on CIFAR-10 (the linear probe is trained on it). Each
# reads no label, so each has balanced variants (methods/balanced.py); a zero-shot method added
# here gets them too.
_ZERO_SHOT: tuple[type[ScoringMethod], ...] = (ClassMappingMethod, PromptSimilarityMethod)
# The alternatives whose balanced top-1 a variant reports (names of MethodScores.alternatives).
_ALTERNATIVES: dict[str, tuple[str, ...]] = {ClassMappingMethod.name: POOLINGS}

BALANCED_METHODS: tuple[type[ScoringMethod], ...] = tuple(
    balanced_variant(base, fit, _ALTERNATIVES.get(base.name, ()))
    for base in _ZERO_SHOT
    for fit in BALANCING_FITS
)

# Adding a method: append its class here (see cifar_zeroshot.methods.interface).
METHODS: tuple[type[ScoringMethod], ...] = (
    ClassMappingMethod,
    LinearProbeMethod,
    PromptSimilarityMethod,
    *BALANCED_METHODS,
)


def configured_methods(inputs: MethodInputs) -> list[ScoringMethod]:
    """Every method the configuration uses, in METHODS order, its stored files checked."""
    return [method for cls in METHODS if (method := cls.configured(inputs)) is not None]


def method_class(name: str) -> type[ScoringMethod]:
    """The method called ``name`` (the `method` column of the metrics tables)."""
    for method in METHODS:
        if method.name == name:
            return method
    known = ", ".join(method.name for method in METHODS)
    raise ValueError(f"unknown scoring method {name!r}: known are {known}")


# Columns of metrics.csv that only some methods fill, each once, in METHODS order.
SETTING_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(column for method in METHODS for column in method.setting_columns)
)
FIGURE_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(column for method in METHODS for column in method.figure_columns)
)


# Their names: the unbalanced methods first (the one a run's confusion matrix shows), then the
# balanced variants, which read no label either.
ZERO_SHOT_METHODS: tuple[str, ...] = tuple(m.name for m in (*_ZERO_SHOT, *BALANCED_METHODS))
