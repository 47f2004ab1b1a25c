"""Checks the workflow configuration before anything runs and derives the job list from it.

The JSON schema (workflow/schemas/config.schema.yaml) states the allowed values; this module turns
its violations into one message per bad key, then checks what a schema cannot: model and weights
names against torchvision, and `limit` against the dataset's size.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from cifar_zeroshot.choices import CIFAR10_TEST_IMAGES
from cifar_zeroshot.errors import UserError
from cifar_zeroshot.variants import Variant, variants_from_config
from cifar_zeroshot.yaml_reading import StrictLoader, excerpt, yaml_problem


@dataclass(frozen=True)
class ModelChoice:
    name: str
    weights: str  # as the user wrote it: DEFAULT, an enum member name, or none


@dataclass(frozen=True)
class WorkflowPlan:
    models: tuple[ModelChoice, ...]
    variants: tuple[Variant, ...]
    image_count: int  # test images each run scores: the limit, or the whole test set
    # Models the linear probe reads features from (empty when it is off) and, for each model it
    # cannot read, why (their zero-shot runs still go ahead).
    probed_models: tuple[str, ...] = ()
    unprobed_reasons: tuple[str, ...] = ()

    @property
    def runs(self) -> list[tuple[str, str]]:
        """Every (model, variant name) pair: one inference job each."""
        return [(m.name, v.name) for m in self.models for v in self.variants]

    @property
    def probe_variants(self) -> list[str]:
        """The variants the probe runs on: the torch runtime's (exports hold only logits)."""
        return [v.name for v in self.variants if v.runtime == "torch"]

    @property
    def probe_runs(self) -> list[tuple[str, str]]:
        """Every (model, variant name) pair with features and a linear probe."""
        return [(m, v) for m in self.probed_models for v in self.probe_variants]

    @property
    def model_weights(self) -> dict[str, str]:
        return {m.name: m.weights for m in self.models}


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML configuration file; a syntax error names the file, the line and the fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"Configuration file {path} is missing. Restore it (git checkout {path}) or pass "
            "your own with --configfile."
        ) from None
    try:
        loaded = yaml.load(text, Loader=StrictLoader)
    except yaml.YAMLError as error:
        raise UserError(
            f"Configuration file {path} is not valid YAML{yaml_problem(error)}. Fix that line "
            "(an unclosed bracket or quote is the usual cause)."
        ) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise UserError(
            f"Configuration file {path} must be a mapping of keys to values (key: value lines), "
            f"not a {type(loaded).__name__}."
        )
    return loaded


def _accepts_text(spec: Mapping[str, Any]) -> bool:
    """Whether a schema property admits a plain string (then text stays text)."""
    options = spec.get("oneOf") or spec.get("anyOf") or [spec]
    for option in options:
        types = option.get("type")
        types = types if isinstance(types, list) else [types]
        if "string" in types or any(isinstance(v, str) for v in option.get("enum", [])):
            return True
        if "array" in types and _accepts_text(option.get("items", {})):
            return True
    return False


def _parse_scalar(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return yaml.load(value, Loader=StrictLoader)
    except yaml.YAMLError:
        return value


def coerce_command_line_values(config: Mapping[str, Any], schema_path: str | Path) -> dict:
    """Undo `--config`'s text-only parsing where the schema expects no text.

    Snakemake reads `--config compile=[false,true]` as ['false', 'true'] and `limit=null` as
    'null'; for keys that take no strings, such text is read as YAML (true, null, 12).
    """
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    coerced = dict(config)
    for key, spec in schema["properties"].items():
        if key not in coerced or _accepts_text(spec):
            continue
        value = coerced[key]
        if isinstance(value, list):
            coerced[key] = [_parse_scalar(item) for item in value]
        else:
            coerced[key] = _parse_scalar(value)
    return coerced


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def _describe(error: jsonschema.ValidationError, schema: Mapping[str, Any]) -> str:
    """Name the key, the bad value and what is allowed (the schema's description)."""
    if error.validator == "additionalProperties" and not error.absolute_path:
        unknown = sorted(set(error.instance) - set(schema["properties"]))
        return (
            f"unknown config key(s) {', '.join(map(repr, unknown))}; known keys: "
            f"{', '.join(schema['properties'])}."
        )
    top_key = error.absolute_path[0] if error.absolute_path else None
    if top_key == "models" and isinstance(error.instance, Mapping) and "name" not in error.instance:
        return _describe_model_mapping(_key_path(error), error.instance)
    allowed = schema["properties"].get(top_key, {}).get("description") if top_key else None
    text = f"config key '{_key_path(error)}' has a bad value {excerpt(error.instance)}"
    if error.validator not in ("oneOf", "anyOf"):
        # jsonschema's message repeats the value in full: quote it as the excerpt instead.
        text += f" ({error.message.replace(repr(error.instance), excerpt(error.instance))})"
    if allowed:
        text += f". Allowed: {' '.join(str(allowed).split())}"
    return text + "."


_MODEL_SYNTAX = (
    "write a model as 'name' or 'name:WEIGHTS' (for example alexnet or alexnet:IMAGENET1K_V1), "
    "or as {name: alexnet, weights: IMAGENET1K_V1}"
)


def _describe_model_mapping(key: str, instance: Mapping[str, Any]) -> str:
    """A model entry YAML read as a mapping: 'alexnet:' or 'alexnet: V1' without quotes."""
    if len(instance) == 1:
        name, weights = next(iter(instance.items()))
        if weights in ("", None):
            return f"config key '{key}': {name}: names no weights after the ':'; {_MODEL_SYNTAX}."
    return f"config key '{key}' has a bad value {excerpt(instance)}; {_MODEL_SYNTAX}."


def check_against_schema(config: Mapping[str, Any], schema_path: str | Path) -> None:
    """Raise one UserError that lists every schema violation, key by key."""
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(dict(config)), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [_describe(error, schema) for error in errors]
        raise UserError(
            "Invalid configuration (config/config.yaml or --config):\n  - " + "\n  - ".join(lines)
        )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _parse_model(entry: str | Mapping[str, str], default_weights: str) -> ModelChoice:
    if isinstance(entry, Mapping):
        return ModelChoice(entry["name"], entry.get("weights", default_weights))
    name, sep, weights = entry.partition(":")
    if sep and not weights:
        raise UserError(f"{entry!r} names no weights after the ':'; {_MODEL_SYNTAX}.")
    return ModelChoice(name, weights if sep else default_weights)


def dataset_size(config: Mapping[str, Any]) -> int:
    if config["dataset"] == "synthetic":
        return 10 * int(config["synthetic_images_per_class"])
    return CIFAR10_TEST_IMAGES


def plan_workflow(config: Mapping[str, Any]) -> WorkflowPlan:
    """Check what the schema cannot and list the inference jobs. ``config`` has its defaults."""
    from cifar_zeroshot import models as model_registry  # torchvision import: only when needed

    problems: list[str] = []
    choices = []
    for entry in config["models"]:
        try:
            choices.append(_parse_model(entry, config["weights"]))
        except UserError as error:
            problems.append(f"config key 'models': {error}")
    seen: set[str] = set()
    for choice in choices:
        try:
            model_registry.resolve_weights(choice.name, choice.weights)  # checks the name too
        except UserError as error:
            problems.append(f"config key 'models': {error}")
        if choice.name in seen:
            problems.append(
                f"config key 'models': {choice.name!r} is listed twice; list each model once "
                "(run other weights under another configuration)."
            )
        seen.add(choice.name)
    limit, size = config["limit"], dataset_size(config)
    if limit is not None and limit > size:
        problems.append(
            f"config key 'limit': {limit} is more than the {size} test images of dataset "
            f"{config['dataset']!r}. Allowed: null or an integer from 1 to {size}."
        )
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
    # Snakemake would keep using results/class_mapping.csv from the last mapping file.
    mapping = Path(config["class_mapping"])
    if not mapping.is_file():
        problems.append(
            f"config key 'class_mapping': {mapping} is not an existing file (relative paths "
            f"start at {Path.cwd()}). Fix: point it at a mapping file, e.g. the default "
            "config/class_mapping.yaml."
        )
    if problems:
        raise UserError("Invalid configuration:\n  - " + "\n  - ".join(problems))
    variants = variants_from_config(
        _as_list(config["precision"]),
        _as_list(config["compile"]),
        _as_list(config["preprocess"]),
        _as_list(config["runtime"]),
    )
    image_count = size if limit is None else limit
    plan = WorkflowPlan(tuple(choices), tuple(variants), image_count)
    if not config["linear_probe"]:
        return plan
    probed, reasons = _probe_ready_models([choice.name for choice in choices])
    return dataclasses.replace(plan, probed_models=probed, unprobed_reasons=reasons)


def _probe_ready_models(names: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The models whose penultimate features the probe can read, and why each other one not."""
    import torchvision  # only when the probe is on

    from cifar_zeroshot.penultimate import check_probe_ready

    probed, reasons = [], []
    for name in names:
        try:
            check_probe_ready(lambda name=name: torchvision.models.get_model(name), name)
        except UserError as error:
            reasons.append(str(error))
        else:
            probed.append(name)
    return tuple(probed), tuple(reasons)
