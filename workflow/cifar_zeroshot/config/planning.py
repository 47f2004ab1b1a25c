"""The job plan: what the configuration asks for, checked where a schema cannot check it.

After config_schema has checked the values, this module expands model collections
(models.collection), checks model and weights names against torchvision, timm and open_clip,
`limit` against the dataset's size, the class mapping and prompts files, the linear probe's
settings, and which models the linear probe can read; then it lists the inference jobs, each
model's published ImageNet-1k top-1 and what the configuration asks of the scoring methods' files.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cifar_zeroshot.config.calibration_plan import plan_calibration
from cifar_zeroshot.config.schema import MODEL_SYNTAX
from cifar_zeroshot.config.test_set_plan import TestSetPlan, test_set_plan
from cifar_zeroshot.config.weights_file_plan import parse_file_model
from cifar_zeroshot.core.choices import (
    CIFAR10_TRAIN_IMAGES,
    NONE_WEIGHTS,
    REFERENCE_TEST_SET,
)
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_CIFAR10_CLASSES
from cifar_zeroshot.core.paths import EMBEDDINGS, FEATURES, LOGITS, run_output_path, timing_path
from cifar_zeroshot.core.runtime_table import RUNTIMES
from cifar_zeroshot.core.variants import Variant, variants_from_config
from cifar_zeroshot.data.test_sets import TEST_SETS
from cifar_zeroshot.methods.probe.few_shot_settings import FewShotSettings
from cifar_zeroshot.methods.probe.settings import ProbeRequest, ProbeSettings
from cifar_zeroshot.models.collection import Expansion, collection_request, expand_collection
from cifar_zeroshot.models.family import ModelFamily
from cifar_zeroshot.models.family_registry import family_of_config_name
from cifar_zeroshot.models.feature_widths import feature_widths
from cifar_zeroshot.models.published_accuracy import published_imagenet_top1
from cifar_zeroshot.models.timm.names import head_refusal, parse_timm_name
from cifar_zeroshot.models.torchvision.catalog import weights_member
from cifar_zeroshot.models.weights_file import WeightsFile, architecture_slug
from cifar_zeroshot.runtimes.calibration_source import TRAINING_SET, CalibrationSource
from cifar_zeroshot.runtimes.cpu_features import bf16_missing


@dataclass(frozen=True)
class ModelChoice:
    name: str  # the results folder name: a torchvision name, or a CLIP model's slug
    weights: str  # as the user wrote it: DEFAULT, an enum member name, or none
    # A CLIP or timm model's name in the config (clip:ViT-B-32/openai, timm:resnet50.a1_in1k)
    config_name: str = ""
    # A timm head that is not ImageNet-1k's (an in21k tag): the linear probe alone scores it,
    # so its runs write features, no logits, on the probe's variants only.
    probe_only: bool = False
    # The user's weights file (weights is then its setting, 'file-sha256:<digest>').
    weights_file: WeightsFile | None = None

    @property
    def family(self) -> ModelFamily:
        return family_of_config_name(self.config_name)

    def runs_variant(self, variant: Variant) -> bool:
        """CLIP models run on torch with their own preprocessing (no export, no lab protocol);
        torchvision and timm models run every variant (the export job builds both); a model
        the probe alone scores, the probe's (torch) variants."""
        if self.probe_only:
            return variant.runtime_spec.writes_features
        return self.family.runs_variant(variant)


@dataclass(frozen=True)
class WorkflowPlan:
    models: tuple[ModelChoice, ...]
    variants: tuple[Variant, ...]
    image_count: int  # CIFAR-10 images each run scores: the limit, or the whole test set
    # Models the linear probe reads features from (empty when it is off) and, for each model it
    # cannot read, why (their zero-shot runs still go ahead).
    probed_models: tuple[str, ...] = ()
    unprobed_reasons: tuple[str, ...] = ()
    # For each model the linear probe alone scores, why the class mapping does not (a warning).
    unmapped_reasons: tuple[str, ...] = ()
    # What every probe file must have been fitted with, and the digest of the prompts every
    # class-embeddings file must come from (None without CLIP models): the metrics check them.
    probe_request: ProbeRequest | None = None
    prompts_sha256: str | None = None
    # The few-shot probes' k, draws and seed (None with the probe off).
    few_shot: FewShotSettings | None = None
    # The test sets asked for (CIFAR-10 first), the blocked set's selection and the limits.
    test_sets: TestSetPlan = dataclasses.field(default_factory=TestSetPlan)
    # The images the int8 variant's quantisation is calibrated on (None without int8).
    calibration: CalibrationSource | None = None
    # The collections in `models:` and the model names each expanded into.
    collections: tuple[Expansion, ...] = ()
    # Each model's published ImageNet-1k top-1 (a fraction; None: untrained weights, a weights
    # file's model, or none published), by slug: metrics.csv's model column.
    published_top1: Mapping[str, float | None] = dataclasses.field(default_factory=dict)

    @property
    def collection_record(self) -> dict[str, list[str]]:
        """Each collection's text -> the model names it expanded into (run_info)."""
        return {e.request.text: list(e.models) for e in self.collections}

    @property
    def collection_notes(self) -> list[str]:
        """The dry run's lines: each collection with its count, what it left out, its models."""
        return [expansion.summary() for expansion in self.collections]

    @property
    def calibrates_on_training(self) -> bool:
        """Whether the int8 quantisation reads the training set."""
        return self.calibration is not None and self.calibration.image_set == TRAINING_SET

    @property
    def model_runs(self) -> list[tuple[str, str]]:
        """Every (model, variant name) pair that runs: one inference job per test set each."""
        return [(m.name, v.name) for m in self.models for v in self.variants if m.runs_variant(v)]

    @property
    def runs(self) -> list[tuple[str, str, str]]:
        """Every (test set, model, variant name): one inference job each."""
        return [(t, m, v) for t in self.test_sets.test_sets for m, v in self.model_runs]

    @property
    def probe_score_runs(self) -> list[tuple[str, str, str]]:
        """Every (test set, model, variant name) the linear probe scores: the probe fitted on
        CIFAR-10's training features applied to that set's test features."""
        return [(t, m, v) for t in self.test_sets.test_sets for m, v in self.probe_runs]

    @property
    def clip_models(self) -> list[str]:
        """The CLIP models' names (slugs): they are scored by prompt similarity."""
        return [m.name for m in self.models if m.family.output_kind == "embeddings"]

    @property
    def probe_variants(self) -> list[str]:
        """The variants the probe runs on: the torch runtime's (exports hold only logits)."""
        return [v.name for v in self.variants if v.runtime_spec.writes_features]

    @property
    def probe_runs(self) -> list[tuple[str, str]]:
        """Every (model, variant name) pair with features and a linear probe."""
        return [(m, v) for m in self.probed_models for v in self.probe_variants]

    @property
    def model_weights(self) -> dict[str, str]:
        return {m.name: m.weights for m in self.models}

    @property
    def weights_files(self) -> dict[str, WeightsFile]:
        """The models loaded from the user's weights file, by slug."""
        return {m.name: m.weights_file for m in self.models if m.weights_file is not None}

    @property
    def weights_titles(self) -> dict[str, str]:
        """How figures and tables name each model's weights: "untrained", a weights file's
        title (or its name), or the weights as configured."""
        titles = {}
        for m in self.models:
            if m.weights_file is not None:
                titles[m.name] = m.weights_file.title or Path(m.weights_file.path).name
            else:
                titles[m.name] = "untrained" if m.weights == NONE_WEIGHTS else m.weights
        return titles

    def weights_file_input(self, model: str) -> dict[str, str]:
        """A model's weights file as a job's named input (none for published weights)."""
        weights_file = self.weights_files.get(model)
        return {} if weights_file is None else {"weights_file": weights_file.path}

    def weights_file_params(self, model: str) -> dict[str, str] | None:
        """A model's weights file as a job's param (WeightsFile's fields); None without one."""
        weights_file = self.weights_files.get(model)
        return None if weights_file is None else weights_file.to_params()

    @property
    def probe_only_models(self) -> list[str]:
        """The models whose runs write test features, no logits (ModelChoice.probe_only)."""
        return [m.name for m in self.models if m.probe_only]

    def output_kind(self, model: str) -> str:
        """What a model's runs write per image (core.paths.OUTPUT_KINDS)."""
        if model in self.probe_only_models:
            return FEATURES
        return EMBEDDINGS if model in self.clip_models else LOGITS

    def run_output_path(self, test_set: str, model: str, variant: str) -> str:
        """The per-image file of a run the metrics read."""
        return run_output_path(self.output_kind(model), test_set, model, variant)

    def run_files(self, test_set: str, model: str, variant: str) -> tuple[str, str]:
        """A run's per-image file and its timing file: what its inference job writes."""
        return self.run_output_path(test_set, model, variant), timing_path(test_set, model, variant)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _parse_model(entry: str | Mapping[str, str], default_weights: str) -> ModelChoice:
    name = entry["name"] if isinstance(entry, Mapping) else entry
    if isinstance(entry, Mapping) and "weights_file" in entry:
        parsed, weights_file = parse_file_model(entry)
        return ModelChoice(
            parsed.slug, weights_file.setting, parsed.config_name, parsed.probe_only, weights_file
        )
    parse = family_of_config_name(name).parse
    if parse is not None:
        weights = entry.get("weights", default_weights) if isinstance(entry, Mapping) else None
        parsed = parse(name, weights or default_weights)
        return ModelChoice(
            parsed.slug, weights or default_weights, parsed.config_name, parsed.probe_only
        )
    if isinstance(entry, Mapping):
        return ModelChoice(entry["name"], entry.get("weights", default_weights))
    name, sep, weights = entry.partition(":")
    if sep and not weights:
        raise UserError(f"{entry!r} names no weights after the ':'; {MODEL_SYNTAX}.")
    return ModelChoice(name, weights if sep else default_weights)


def dataset_size(config: Mapping[str, Any]) -> int:
    """CIFAR-10's test images in the configured dataset, as the test-set registry counts them."""
    reference = TEST_SETS[REFERENCE_TEST_SET]
    return int(reference.image_count(config["dataset"], int(config["synthetic_images_per_class"])))


def train_set_size(config: Mapping[str, Any]) -> int:
    """The training images the probe is fitted on: the whole training set (no limit)."""
    if config["dataset"] == "synthetic":
        return NUM_CIFAR10_CLASSES * int(config["synthetic_train_images_per_class"])
    return CIFAR10_TRAIN_IMAGES


def _model_choices(
    config: Mapping[str, Any], problems: list[str]
) -> tuple[list[ModelChoice], list[Expansion]]:
    """The models as configured, each collection expanded in its place; each bad or repeated
    name goes to ``problems``. A collection's model that another entry names too is run once
    (a model named on its own keeps its own weights)."""
    entries: list[tuple[str | Mapping[str, Any], bool]] = []  # (entry, from a collection)
    expansions = []
    for entry in config["models"]:
        try:
            request = collection_request(entry)
            if request is None:
                entries.append((entry, False))
                continue
            expansion = expand_collection(request)
        except UserError as error:
            problems.append(f"config key 'models': {error}")
            continue
        expansions.append(expansion)
        weights = request.weights or config["weights"]
        entries += [({"name": name, "weights": weights}, True) for name in expansion.models]
    parsed = []
    for entry, collected in entries:
        try:
            parsed.append((_parse_model(entry, config["weights"]), collected))
        except UserError as error:
            problems.append(f"config key 'models': {error}")
    named = {choice.name for choice, collected in parsed if not collected}
    choices, seen = [], set()
    for choice, collected in parsed:
        if collected and (choice.name in named or choice.name in seen):
            continue  # named on its own too, or by an earlier collection: run once
        try:
            # CLIP, timm and weights files' names are checked as they are parsed.
            if not choice.config_name and choice.weights_file is None:
                weights_member(choice.name, choice.weights)  # the model's name too
        except UserError as error:
            problems.append(f"config key 'models': {error}")
        if choice.name in seen:
            problems.append(
                f"config key 'models': {choice.name!r} is listed twice; list each model once "
                "(run other weights under another configuration)."
            )
        seen.add(choice.name)
        choices.append(choice)
    return choices, expansions


def _published_top1(choices: list[ModelChoice]) -> dict[str, float | None]:
    """Each model's published ImageNet-1k top-1 (a fraction) by its slug; None for a weights
    file's model, untrained weights, or where none is published."""
    return {
        c.name: None
        if c.weights_file is not None
        else published_imagenet_top1(c.config_name or c.name, c.weights)
        for c in choices
    }


def _probe_request(config: Mapping[str, Any], problems: list[str]) -> ProbeRequest | None:
    """The probe's settings, checked now: a refusal in the probe job would come only after
    Snakemake had deleted the finished probe file. None (with a problem) when they are bad."""
    try:
        return ProbeRequest(ProbeSettings.from_config(config), train_set_size(config))
    except UserError as error:
        problems.append(str(error))
        return None


def _few_shot(config: Mapping[str, Any], problems: list[str]) -> FewShotSettings | None:
    """The few-shot probes' settings, k checked against the training images per class; None
    with the probe off (then no few-shot probe is fitted)."""
    if not config["linear_probe"]:
        return None
    try:
        settings = FewShotSettings.from_config(config)
        settings.check_training_set(train_set_size(config) // NUM_CIFAR10_CLASSES)
    except UserError as error:
        problems.append(str(error))
        return None
    return settings


def plan_workflow(config: Mapping[str, Any]) -> WorkflowPlan:
    """Check what the schema cannot and list the inference jobs. ``config`` has its defaults."""
    problems: list[str] = []
    choices, expansions = _model_choices(config, problems)
    limit, size = config["limit"], dataset_size(config)
    test_sets = test_set_plan(config, problems)
    if (
        config["linear_probe"]
        and config["dataset"] == "synthetic"
        and not config["synthetic_train_images_per_class"]
    ):
        problems.append(
            "config key 'linear_probe': the probe is fitted on the training set, and "
            "synthetic_train_images_per_class is 0. Fix: set it to at least 10 (e.g. 100), or "
            "turn linear_probe off."
        )
    probe_request = _probe_request(config, problems)
    few_shot = _few_shot(config, problems)
    problems += _probe_only_problems(choices, config)
    # Snakemake would keep using results/class_mapping.csv from the last mapping file.
    mapping = Path(config["class_mapping"])
    if not mapping.is_file():
        problems.append(
            f"config key 'class_mapping': {mapping} is not an existing file (relative paths "
            f"start at {Path.cwd()}). Fix: point it at a mapping file, e.g. the default "
            "config/class_mapping.yaml."
        )
    variants = variants_from_config(
        _as_list(config["precision"]),
        _as_list(config["compile"]),
        _as_list(config["preprocess"]),
        _as_list(config["runtime"]),
    )
    calibration, test_sets = plan_calibration(
        config, tuple(variants), test_sets, train_set_size(config), problems
    )
    problems += device_problems(config, variants)
    if problems:
        raise UserError("Invalid configuration:\n  - " + "\n  - ".join(problems))
    image_count = size if limit is None else limit
    plan = WorkflowPlan(
        tuple(choices),
        tuple(variants),
        image_count,
        probe_request=probe_request,
        few_shot=few_shot,
        test_sets=test_sets,
        calibration=calibration,
        collections=tuple(expansions),
        published_top1=_published_top1(choices),
    )
    plan = dataclasses.replace(plan, prompts_sha256=_check_clip_runs(plan, config))
    if not config["linear_probe"]:
        return plan
    probed, reasons = _probe_ready_models(choices)
    return dataclasses.replace(
        plan,
        probed_models=probed,
        unprobed_reasons=reasons,
        unmapped_reasons=_probe_only_notes(choices),
    )


def device_problems(config: Mapping[str, Any], variants: list[Variant]) -> list[str]:
    """int8 on CUDA; bf16 asked for on a CPU without bf16 instructions (device cpu; with auto
    the job refuses it once it finds no GPU)."""
    if config["device"] == "cuda" and any(v.quantised for v in variants):
        return [
            "config key 'precision': int8 runs on ONNX Runtime's CPU execution provider only, "
            "and device is cuda. Fix: set device to cpu, or drop int8 from precision."
        ]
    if config["device"] != "cpu" or not any(v.precision == "bf16" for v in variants):
        return []
    reason = bf16_missing()
    if reason is None:
        return []
    return [
        f"config key 'precision': bf16 with device cpu, but {reason}. Fix: drop bf16 from "
        "precision, or run it on a GPU (device auto or cuda)."
    ]


def _check_clip_runs(plan: WorkflowPlan, config: Mapping[str, Any]) -> str | None:
    """Every CLIP model has a variant to run, and the prompts file is sound (both refused now).

    Returns the prompts' digest, None without CLIP models.
    """
    clip = [m for m in plan.models if m.family.output_kind == "embeddings"]
    if not clip:
        return None
    if not any(clip[0].runs_variant(v) for v in plan.variants):
        raise UserError(
            f"config key 'models': {', '.join(m.config_name for m in clip)} run on the torch "
            "runtime with their own preprocessing only, and no variant of the config does. Fix: "
            "add torch to runtime and weights to preprocess."
        )
    from cifar_zeroshot.methods.clip.prompts import load_prompts, prompts_digest

    try:
        return prompts_digest(load_prompts(config["clip_prompts"]))
    except UserError as error:
        raise UserError(f"config key 'clip_prompts': {error}") from None


def _probe_only_problems(choices: list[ModelChoice], config: Mapping[str, Any]) -> list[str]:
    """A model the probe alone could score, with the probe off or no runtime writing features."""
    problems = []
    for choice in (c for c in choices if c.probe_only):
        spec = parse_timm_name(choice.config_name)
        assert spec is not None  # only timm names are probe-only
        if not config["linear_probe"]:
            problems.append(f"config key 'models': {head_refusal(spec, linear_probe=False)}")
        elif not any(
            r.writes_features for name, r in RUNTIMES.items() if name in _as_list(config["runtime"])
        ):
            problems.append(
                f"config key 'models': {choice.config_name} is scored by the linear probe alone "
                "(its head is not ImageNet-1k's), which reads the torch runtime's features, and "
                "runtime has no torch. Fix: add torch to runtime."
            )
    return problems


def _probe_only_notes(choices: list[ModelChoice]) -> tuple[str, ...]:
    """For each model the probe alone scores: why the class mapping does not (a warning)."""
    notes = []
    for choice in (c for c in choices if c.probe_only):
        spec = parse_timm_name(choice.config_name)
        assert spec is not None  # only timm names are probe-only
        notes.append(str(head_refusal(spec, linear_probe=True)))
    return tuple(notes)


def _probe_ready_models(
    choices: list[ModelChoice],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The models whose penultimate features the probe can read, and why each other one not.
    CLIP models are scored by prompt similarity: no probe, by design (docs/clip.md). timm
    exposes every model's pre-logits features (models.timm.classifier)."""
    # A weights file's model has its architecture's features.
    names = [architecture_slug(c.name) for c in choices if c.family.features == "measured"]
    widths = feature_widths(names)  # from the per-version cache: no torch import once cached
    probed = tuple(
        c.name
        for c in choices
        if c.family.features == "every" or isinstance(widths.get(architecture_slug(c.name)), int)
    )
    reasons = tuple(str(widths[name]) for name in names if not isinstance(widths[name], int))
    return probed, reasons
