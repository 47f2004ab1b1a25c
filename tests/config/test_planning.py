"""Bad configuration values: each gives a message that names the key and what is allowed."""

import pytest
import yaml
from workflow_runner import REPO

from cifar_zeroshot.config.planning import (
    plan_workflow,
)
from cifar_zeroshot.config.schema import (
    check_against_schema,
    coerce_command_line_values,
    load_config_file,
)
from cifar_zeroshot.core import choices
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.clip.prompts import load_prompts, prompts_digest

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


def _config(**overrides):
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config.update(overrides)
    return config


def _with_defaults(config):
    schema = yaml.safe_load(SCHEMA.read_text())
    return {key: config.get(key, spec.get("default")) for key, spec in schema["properties"].items()}


def test_shipped_configurations_are_valid():
    for path in [REPO / "config/config.yaml", *sorted((REPO / "config/presets").glob("*.yaml"))]:
        config = _config(**yaml.safe_load(path.read_text()))
        check_against_schema(config, SCHEMA)
        assert plan_workflow(_with_defaults(config)).model_runs


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"batch_size": 0}, r"'batch_size' has a bad value 0 .*minimum of 1.*integer >= 1"),
        ({"batch_size": -3}, r"'batch_size' has a bad value -3"),
        ({"precision": "fp16"}, r"'precision' has a bad value 'fp16'.*'fp32'.*'tf32'.*'bf16'"),
        ({"precision": ["fp32", "int4"]}, r"'precision' has a bad value \['fp32', 'int4'\]"),
        ({"preprocess": "imagenet"}, r"'preprocess' has a bad value 'imagenet'.*'labreport'"),
        ({"limit": 0}, r"'limit' has a bad value 0.*null .*integer >= 1"),
        ({"limit": -5}, r"'limit' has a bad value -5"),
        ({"device": "gpu"}, r"'device' has a bad value 'gpu'.*'auto'.*'cuda'.*'cpu'"),
        ({"dataset": "cifar100"}, r"'dataset' has a bad value 'cifar100'.*'synthetic'"),
        ({"pooling": "vote"}, r"'pooling' has a bad value 'vote'.*max_logit"),
        (
            {"runtime": ["tensorrt"]},
            r"'runtime' has a bad value \['tensorrt'\].*Allowed: 'torch'.*'onnxruntime'",
        ),
        ({"models": []}, r"'models' has a bad value \[\]"),
        (
            {"linear_probe": "yes-please"},
            r"'linear_probe' has a bad value 'yes-please' .*not of type 'boolean'.*true or false",
        ),
        ({"linear_probe_regularisations": [0.1, 0]}, r"'linear_probe_regularisations.1' has a"),
        ({"linear_probe_validation_fraction": 1}, r"'linear_probe_validation_fraction' has a"),
        ({"batchsize": 8}, r"unknown config key\(s\) 'batchsize'; known keys: dataset"),
    ],
)
def test_schema_violations_name_key_and_allowed_values(overrides, expected):
    with pytest.raises(UserError, match=expected):
        check_against_schema(_config(**overrides), SCHEMA)


def test_all_violations_are_reported_at_once():
    with pytest.raises(UserError) as caught:
        check_against_schema(_config(batch_size=0, device="tpu"), SCHEMA)
    assert "'batch_size'" in str(caught.value)
    assert "'device'" in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"models": ["resnet5"]}, r"'resnet5'.*resnet50"),
        ({"models": ["fasterrcnn_resnet50_fpn"]}, r"fasterrcnn_resnet50_fpn.*not a classification"),
        ({"models": ["../x"]}, r"'\.\./x'"),
        ({"models": ["a/b"]}, r"'a/b'"),
        ({"models": ["resnet50:IMAGENET1K_V9"]}, r"IMAGENET1K_V9.*IMAGENET1K_V1"),
        ({"models": [{"name": "alexnet", "weights": "nope"}]}, r"'nope'.*IMAGENET1K_V1"),
        ({"models": ["alexnet", "alexnet"]}, r"'alexnet' is listed twice"),
        ({"limit": 10_001}, r"'limit': 10001 is more than the 10000 test images"),
        (
            {"dataset": "synthetic", "synthetic_images_per_class": 5, "limit": 51},
            r"'limit': 51 is more than the 50 test images of dataset 'synthetic'",
        ),
        (
            {"linear_probe": True, "dataset": "synthetic", "synthetic_train_images_per_class": 0},
            r"'linear_probe': the probe is fitted on the training set, and synthetic_train",
        ),
        ({"models": ["clip:ViT-B-33/openai"]}, r"unknown architecture 'ViT-B-33'.*ViT-B-32"),
        ({"models": ["clip:ViT-B-32/opena"]}, r"ViT-B-32 has no pretrained tag 'opena'.*openai"),
        ({"models": ["clip:ViT-B-32"]}, r"names no architecture and pretrained tag"),
        (
            {"models": ["clip:RN50/openai"], "weights": "IMAGENET1K_V1"},
            r"Weights 'IMAGENET1K_V1' do not fit CLIP model clip:RN50/openai",
        ),
        (
            {"models": ["clip:RN50/openai"], "runtime": ["onnxruntime"]},
            r"clip:RN50/openai run on the torch runtime with their own preprocessing only",
        ),
        (
            {"models": ["clip:RN50/openai"], "clip_prompts": "config/nope.yaml"},
            r"config key 'clip_prompts': .*nope.yaml",
        ),
        (
            {"models": ["clip:RN50/openai"], "clip_prompts": "/dev/zero"},
            r"config key 'clip_prompts': CLIP prompts file /dev/zero is not a regular file",
        ),
    ],
)
def test_semantic_problems_name_key_and_fix(overrides, expected):
    with pytest.raises(UserError, match=expected):
        plan_workflow(_with_defaults(_config(**overrides)))


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("linear_probe_regularisations", [".nan"], "linear_probe_regularisations holds nan"),
        ("linear_probe_regularisations", ["0.1", ".inf"], "linear_probe_regularisations holds inf"),
        ("linear_probe_validation_fraction", ".nan", "linear_probe_validation_fraction must be"),
    ],
)
def test_non_finite_probe_settings_from_the_command_line_are_refused_at_planning(
    key, text, expected
):
    # Issue 24: they passed the schema and planning, and the probe job refused them only after
    # Snakemake had deleted the finished probe file. Planning refuses them whether or not the
    # probe is on, as the schema does the keys' other bad values.
    config = coerce_command_line_values(_config(**{key: text}), SCHEMA)
    check_against_schema(config, SCHEMA)  # a schema cannot say "finite"
    for probe in (True, False):
        with pytest.raises(UserError, match=f"Invalid configuration:\n  - {expected}"):
            plan_workflow(_with_defaults({**config, "linear_probe": probe}))


def test_the_plan_states_what_the_method_files_must_hold():
    config = _with_defaults(
        _config(
            dataset="synthetic",
            synthetic_train_images_per_class=30,
            linear_probe_regularisations=[0.001, 0.1],
            models=["alexnet", "clip:ViT-B-32/openai"],
        )
    )
    plan = plan_workflow(config)
    assert plan.probe_request.to_params() == {
        "validation_fraction": 0.2,
        "regularisations": [0.1, 0.001],  # strongest first, as the probe file records them
        "max_iterations": 50,
        "seed": 0,
        "train_images": 300,
    }
    prompts = load_prompts(REPO / "config/clip_prompts.yaml")
    assert plan.prompts_sha256 == prompts_digest(prompts)
    assert plan_workflow({**config, "models": ["alexnet"]}).prompts_sha256 is None


def test_the_probe_reads_classifiers_that_end_in_a_linear_layer_and_says_why_not_others():
    config = _with_defaults(
        _config(
            models=["alexnet", "squeezenet1_1", "clip:ViT-B-32/openai"],
            linear_probe=True,
            runtime=["torch", "onnxruntime"],
            weights="none",
        )
    )
    plan = plan_workflow(config)
    assert plan.probed_models == ("alexnet",)
    assert plan.probe_runs == [("alexnet", "fp32")]  # no probe on the exported model
    # CLIP models are not probed by design, and not warned about; squeezenet1_1 is.
    (squeezenet,) = plan.unprobed_reasons
    assert "squeezenet1_1's final layer is AdaptiveAvgPool2d, not a linear classifier" in squeezenet
    # The CLIP model runs on torch with its own preprocessing only.
    assert ("clip-ViT-B-32.openai", "fp32") in plan.model_runs
    assert ("clip-ViT-B-32.openai", "fp32-onnxruntime") not in plan.model_runs
    assert plan.clip_models == ["clip-ViT-B-32.openai"]
    assert plan_workflow({**config, "linear_probe": False}).probe_runs == []


def test_models_carry_their_own_weights_and_variants_multiply():
    config = _with_defaults(
        _config(
            models=["alexnet", "resnet50:IMAGENET1K_V1", {"name": "vgg16", "weights": "none"}],
            weights="DEFAULT",
            precision=["fp32", "bf16"],
            preprocess=["weights", "labreport"],
        )
    )
    plan = plan_workflow(config)
    assert plan.model_weights == {
        "alexnet": "DEFAULT",
        "resnet50": "IMAGENET1K_V1",
        "vgg16": "none",
    }
    assert len(plan.model_runs) == 3 * 4
    assert ("resnet50", "bf16-labreport") in plan.model_runs


def test_runtime_multiplies_the_variants_it_can_run():
    config = _with_defaults(
        _config(models=["alexnet"], precision=["fp32", "bf16"], runtime=["torch", "onnxruntime"])
    )
    assert plan_workflow(config).model_runs == [
        ("alexnet", "fp32"),
        ("alexnet", "fp32-onnxruntime"),
        ("alexnet", "bf16"),
    ]
    config.update(precision=["bf16"])
    with pytest.raises(UserError, match="'runtime': onnxruntime runs precision fp32 or tf32"):
        plan_workflow(config)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models: [alexnet\nbatch_size: 8\n", r"bad.yaml is not valid YAML at line 2"),
        ("- alexnet\n", r"bad.yaml must be a mapping"),
        ("a: 'unclosed\n", r"bad.yaml is not valid YAML at line"),
    ],
)
def test_config_file_syntax_errors_name_file_and_line(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=expected):
        load_config_file(path)


def test_missing_config_file_says_how_to_restore_it(tmp_path):
    with pytest.raises(UserError, match=r"missing.*git checkout"):
        load_config_file(tmp_path / "config.yaml")


def test_command_line_text_is_read_as_the_schema_expects():
    # What `snakemake --config compile=[false,true] limit=null models=[alexnet,true]` yields.
    from_command_line = _config(compile=["false", "true"], limit="null", models=["alexnet", "true"])
    coerced = coerce_command_line_values(from_command_line, SCHEMA)
    assert coerced["compile"] == [False, True]
    assert coerced["limit"] is None
    assert coerced["models"] == ["alexnet", "true"]  # names stay text
    check_against_schema({**coerced, "models": ["alexnet"]}, SCHEMA)


def test_text_that_is_no_value_still_fails_the_schema():
    coerced = coerce_command_line_values(_config(limit="ten"), SCHEMA)
    with pytest.raises(UserError, match="'limit' has a bad value 'ten'"):
        check_against_schema(coerced, SCHEMA)


def _schema_enum(spec):
    """The allowed values of a schema property: its enum, or the enum of its list items."""
    for option in spec.get("oneOf", [spec]):
        if "enum" in option:
            return tuple(option["enum"])
        if "items" in option and "enum" in option["items"]:
            return tuple(option["items"]["enum"])
    raise AssertionError(f"no enum in {spec}")


def test_schema_allows_exactly_the_values_the_code_knows():
    properties = yaml.safe_load(SCHEMA.read_text())["properties"]
    assert _schema_enum(properties["dataset"]) == choices.DATASETS
    assert _schema_enum(properties["device"]) == choices.DEVICES
    assert _schema_enum(properties["precision"]) == choices.PRECISIONS
    assert _schema_enum(properties["preprocess"]) == choices.PREPROCESSINGS
    assert _schema_enum(properties["pooling"]) == choices.POOLINGS
    assert _schema_enum(properties["runtime"]) == choices.RUNTIMES
    assert choices.REFERENCE_PRECISION in choices.PRECISIONS
    assert choices.REFERENCE_RUNTIME in choices.RUNTIMES


def test_shipped_config_shows_the_schema_defaults():
    # config/config.yaml is what users read and edit; its values must be the defaults that
    # presets and --configfile runs fall back to, which the schema alone defines.
    properties = yaml.safe_load(SCHEMA.read_text())["properties"]
    shipped = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for key, value in shipped.items():
        assert value == properties[key]["default"], key
    every_default = {key: spec["default"] for key, spec in properties.items()}
    assert plan_workflow(every_default).model_runs  # the defaults alone make a valid plan


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        # What `--config 'models=[alexnet:]'` yields: a one-key mapping with empty weights.
        ([{"alexnet": ""}], r"'models.0': alexnet: names no weights after the ':'; write a model"),
        ([{"alexnet": "IMAGENET1K_V1"}], r"'models.0' has a bad value .*alexnet:IMAGENET1K_V1"),
    ],
)
def test_model_entries_read_as_mappings_say_how_to_write_a_model(models, expected):
    with pytest.raises(UserError, match=expected):
        check_against_schema(_config(models=models), SCHEMA)


def test_model_with_a_colon_but_no_weights_says_so():
    with pytest.raises(UserError, match=r"'alexnet:' names no weights after the ':'"):
        plan_workflow(_with_defaults(_config(models=["alexnet:"])))


def test_config_file_aliases_are_refused_with_their_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text("a: &x [1, 2]\nb: [*x, *x]\n")
    with pytest.raises(UserError, match=r"bomb.yaml is not valid YAML at line 2.*alias"):
        load_config_file(path)


def test_long_bad_values_are_quoted_as_a_short_excerpt():
    for overrides in ({"dataset": "x" * 5000}, {"batch_size": list(range(5000))}):
        with pytest.raises(UserError) as caught:
            check_against_schema(_config(**overrides), SCHEMA)
        assert len(str(caught.value)) < 600, overrides
