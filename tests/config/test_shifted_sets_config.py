"""The test-set axis in the configuration: schema values, planning refusals, and the jobs."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from cifar_zeroshot.config.planning import ModelChoice, plan_workflow
from cifar_zeroshot.config.schema import check_against_schema
from cifar_zeroshot.core import choices
from cifar_zeroshot.core.errors import UserError

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
PROPERTIES = yaml.safe_load(SCHEMA.read_text())["properties"]


def _config(**overrides):
    config = {key: spec.get("default") for key, spec in PROPERTIES.items()}
    config.update(models=["alexnet"], **overrides)
    return config


def test_schema_allows_exactly_the_test_sets_corruptions_and_severities_the_code_knows():
    assert tuple(PROPERTIES["test_sets"]["items"]["enum"]) == choices.TEST_SETS
    assert PROPERTIES["test_sets"]["default"] == [choices.REFERENCE_TEST_SET]
    listed = PROPERTIES["corruptions"]["oneOf"][1]["items"]["enum"]
    assert tuple(listed) == choices.CORRUPTIONS and len(listed) == 19
    assert tuple(PROPERTIES["corruptions"]["default"]) == choices.BENCHMARK_CORRUPTIONS
    assert tuple(PROPERTIES["severities"]["items"]["enum"]) == choices.SEVERITIES
    assert set(choices.SYNTHETIC_CORRUPTIONS) <= set(choices.CORRUPTIONS)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"test_sets": ["cifar10", "cifar10.2"]}, r"'test_sets.1' has a bad value 'cifar10.2'"),
        ({"corruptions": ["snow", "mist"]}, r"'corruptions' has a bad value \['snow', 'mist'\]"),
        ({"corruptions": "some"}, r"'corruptions' has a bad value 'some'.*'all' \(the 19"),
        ({"severities": [0, 3]}, r"'severities.0' has a bad value 0.*from 1 to 5"),
        ({"shift_limit": 0}, r"'shift_limit' has a bad value 0"),
    ],
)
def test_unknown_values_are_refused_with_the_allowed_ones(overrides, expected):
    with pytest.raises(UserError, match=expected):
        check_against_schema(_config(**overrides), SCHEMA)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"test_sets": ["cifar10.1"]}, r"'test_sets': \['cifar10.1'\] lacks 'cifar10', the ref"),
        (
            {"dataset": "synthetic", "test_sets": ["cifar10", "cifar10-c"]},
            r"'corruptions': the synthetic CIFAR-10-C stand-in holds no shot_noise, impulse_noise,"
            r".*Allowed with dataset 'synthetic': a list of gaussian_noise, defocus_blur,",
        ),
        (
            {"test_sets": ["cifar10", "cifar10.1"], "shift_limit": 2001},
            r"'shift_limit': 2001 is more than the 2000 images of cifar10.1 with dataset 'cifar10'",
        ),
        (
            {
                "dataset": "synthetic",
                "synthetic_images_per_class": 2,
                "test_sets": ["cifar10", "cifar10-c"],
                "corruptions": ["contrast"],
                "shift_limit": 21,
            },
            r"'shift_limit': 21 is more than the 20 images per corruption and severity of ",
        ),
        ({"severities": [6]}, r"'severities': \[6\] are not CIFAR-10-C severities"),
        (
            {"test_sets": ["cifar10", "x"]},
            r"unknown test set\(s\) 'x'. Allowed: cifar10, cifar10.1",
        ),
    ],
)
def test_planning_refuses_what_the_schema_cannot_see(overrides, expected):
    with pytest.raises(UserError, match=expected):
        plan_workflow(_config(**overrides))


def test_one_job_per_shifted_set_model_and_variant_and_canonical_selection():
    plan = plan_workflow(
        _config(
            test_sets=["cifar10-c", "cifar10", "cifar10.1"],
            corruptions=["pixelate", "fog"],
            severities=[5, 1],
            precision=["fp32", "bf16"],
        )
    )
    assert plan.shift.test_sets == ("cifar10.1", "cifar10-c")
    assert len(plan.shifted_runs) == 2 * len(plan.runs) == 4
    assert plan.shift.blocks() == [("fog", 1), ("fog", 5), ("pixelate", 1), ("pixelate", 5)]
    everything = plan_workflow(_config(test_sets=["cifar10", "cifar10-c"], corruptions="all"))
    assert everything.shift.corruptions == choices.CORRUPTIONS
    assert plan_workflow(_config()).shifted_runs == []  # the default: CIFAR-10 only


def test_probed_runs_are_scored_by_the_probe_on_every_shifted_set_and_probe_only_read_features():
    plan = dataclasses.replace(
        plan_workflow(_config(test_sets=["cifar10", "cifar10.1", "cifar10-c"])),
        probed_models=("alexnet",),
    )
    assert plan.shifted_probe_runs == [
        ("cifar10.1", "alexnet", "fp32"),
        ("cifar10-c", "alexnet", "fp32"),
    ]
    assert plan.shifted_output_path("cifar10.1", "alexnet", "fp32") == (
        "results/logits/cifar10.1/alexnet/fp32.parquet"
    )
    # A model the probe alone scores writes features, no logits, on shifted sets too.
    only = ModelChoice(
        "timm-vit_small_patch16_224.augreg_in21k",
        "none",
        "timm:vit_small_patch16_224.augreg_in21k",
        probe_only=True,
    )
    plan = dataclasses.replace(plan, models=(*plan.models, only))
    assert plan.shifted_output_path("cifar10-c", only.name, "fp32") == (
        f"results/features/cifar10-c/{only.name}/fp32/test.parquet"
    )
