"""The configuration as read and checked against its JSON schema, before any planning.

The schema (workflow/schemas/config.schema.yaml) states the allowed values and the defaults; this
module reads the YAML file (its mistakes named by line), undoes --config's text-only parsing,
and turns every schema violation into one message per bad key with the allowed values.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.yaml_reading import StrictLoader, excerpt, yaml_problem


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
    repeated = _repeated_items(error)
    if repeated:
        # A oneOf hides which branch failed: say the duplicate outright, whichever branch it was.
        text += f" (it lists {', '.join(map(repr, repeated))} more than once; list each once)"
    elif error.validator not in ("oneOf", "anyOf"):
        # jsonschema's message repeats the value in full: quote it as the excerpt instead.
        text += f" ({error.message.replace(repr(error.instance), excerpt(error.instance))})"
    if allowed:
        text += f". Allowed: {' '.join(str(allowed).split())}"
    return text + "."


def _repeated_items(error: jsonschema.ValidationError) -> list[Any]:
    """The items a list repeats when a uniqueItems rule failed (itself or in a oneOf's branch)."""
    failed = [error, *error.context] if error.validator in ("oneOf", "anyOf") else [error]
    if not any(e.validator == "uniqueItems" and e.instance is error.instance for e in failed):
        return []
    seen: list[Any] = []
    repeated: list[Any] = []
    for item in error.instance:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.append(item)
    return repeated


MODEL_SYNTAX = (
    "write a model as 'name' or 'name:WEIGHTS' (for example alexnet or alexnet:IMAGENET1K_V1), "
    "or as {name: alexnet, weights: IMAGENET1K_V1}; a CLIP model as clip:ARCHITECTURE/TAG "
    "(for example clip:ViT-B-32/openai); a timm model as timm:NAME.TAG (for example "
    "timm:resnet50.a1_in1k)"
)


def _describe_model_mapping(key: str, instance: Mapping[str, Any]) -> str:
    """A model entry YAML read as a mapping: 'alexnet:' or 'alexnet: V1' without quotes."""
    if len(instance) == 1:
        name, weights = next(iter(instance.items()))
        if weights in ("", None):
            return f"config key '{key}': {name}: names no weights after the ':'; {MODEL_SYNTAX}."
    return f"config key '{key}' has a bad value {excerpt(instance)}; {MODEL_SYNTAX}."


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
