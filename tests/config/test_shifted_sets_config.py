"""The test-set axis in the configuration: schema values, planning refusals, and the jobs."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from cifar_zeroshot.config.planning import ModelChoice, plan_workflow
from cifar_zeroshot.config.schema import check_against_schema
from cifar_zeroshot.config.workspace import scored_images
from cifar_zeroshot.core import choices
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.test_sets import TEST_SETS

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
PROPERTIES = yaml.safe_load(SCHEMA.read_text())["properties"]


def _config(**overrides):
    config = {key: spec.get("default") for key, spec in PROPERTIES.items()}
    config.update(models=["alexnet"], **overrides)
    return config


def test_schema_allows_exactly_the_test_sets_corruptions_and_severities_the_code_knows():
    # Any registered name (data.test_sets), or a set of the user's files (an object);
    # planning refuses other names with the registry's.
    assert PROPERTIES["test_sets"]["items"]["oneOf"][0] == {"type": "string"}
    assert tuple(TEST_SETS) == ("cifar10", "cifar10.1", "cifar10-c")
    assert PROPERTIES["test_sets"]["default"] == [choices.REFERENCE_TEST_SET]
    listed = PROPERTIES["corruptions"]["oneOf"][1]["items"]["enum"]
    assert tuple(listed) == choices.CORRUPTIONS and len(listed) == 19
    assert tuple(PROPERTIES["corruptions"]["default"]) == choices.BENCHMARK_CORRUPTIONS
    assert tuple(PROPERTIES["severities"]["items"]["enum"]) == choices.SEVERITIES
    assert set(choices.SYNTHETIC_CORRUPTIONS) <= set(choices.CORRUPTIONS)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
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
        # corruptions is a oneOf ('all' or a list): its duplicate must still be named.
        ({"corruptions": ["contrast", "snow", "contrast"]}, "corruptions"),
        ({"severities": [1, 3, 1]}, "severities"),
        ({"test_sets": ["cifar10", "cifar10"]}, "test_sets"),
    ],
)
def test_a_repeated_item_is_named_as_the_problem(overrides, expected):
    (repeated,) = {item for item in overrides[expected] if overrides[expected].count(item) > 1}
    with pytest.raises(UserError, match=rf"lists {repeated!r} more than once; list each once"):
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
            {"test_sets": ["cifar10", "cifar10.2"]},
            r"unknown test set\(s\) 'cifar10.2'. Allowed: cifar10, cifar10.1, cifar10-c",
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
    assert plan.test_sets.test_sets == ("cifar10", "cifar10.1", "cifar10-c")
    assert plan.test_sets.shifted == ("cifar10.1", "cifar10-c")
    assert len(plan.runs) == 3 * len(plan.model_runs) == 6
    assert plan.test_sets.blocks() == [("fog", 1), ("fog", 5), ("pixelate", 1), ("pixelate", 5)]
    everything = plan_workflow(_config(test_sets=["cifar10", "cifar10-c"], corruptions="all"))
    assert everything.test_sets.corruptions == choices.CORRUPTIONS
    default = plan_workflow(_config())  # the default: CIFAR-10 only
    assert default.runs == [("cifar10", "alexnet", "fp32")] and not default.test_sets.shifted


def test_each_set_is_cut_by_its_own_limit_and_the_free_space_check_counts_every_run():
    plan = plan_workflow(
        _config(
            dataset="synthetic",
            synthetic_images_per_class=10,
            test_sets=["cifar10", "cifar10.1", "cifar10-c"],
            corruptions=["contrast", "pixelate"],
            severities=[1, 5],
            limit=40,
            shift_limit=30,
        )
    )
    limits = {name: plan.test_sets.run_limit(name) for name in plan.test_sets.test_sets}
    # CIFAR-10-C's selection is cut per block when it is built, so its runs take it whole.
    assert limits == {"cifar10": 40, "cifar10.1": 30, "cifar10-c": None}
    # 40 + 30 + 4 blocks x 30, one run each.
    assert scored_images(plan) == 40 + 30 + 4 * 30


def test_probed_runs_are_scored_by_the_probe_on_every_shifted_set_and_probe_only_read_features():
    plan = dataclasses.replace(
        plan_workflow(_config(test_sets=["cifar10", "cifar10.1", "cifar10-c"])),
        probed_models=("alexnet",),
    )
    assert plan.probe_score_runs == [
        ("cifar10", "alexnet", "fp32"),
        ("cifar10.1", "alexnet", "fp32"),
        ("cifar10-c", "alexnet", "fp32"),
    ]
    assert plan.run_output_path("cifar10.1", "alexnet", "fp32") == (
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
    assert plan.run_output_path("cifar10-c", only.name, "fp32") == (
        f"results/features/cifar10-c/{only.name}/fp32/test.parquet"
    )
