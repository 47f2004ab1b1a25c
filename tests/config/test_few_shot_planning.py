"""The few-shot keys: every bad value refused before any job, naming the allowed values."""

import pytest
import yaml
from workflow_runner import REPO

from cifar_zeroshot.config.planning import plan_workflow
from cifar_zeroshot.config.schema import check_against_schema
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.probe.few_shot_settings import FewShotSettings

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
# The probe on synthetic data: 100 training images per class.
PROBED = {"linear_probe": True, "dataset": "synthetic", "synthetic_train_images_per_class": 100}


def _config(**overrides):
    properties = yaml.safe_load(SCHEMA.read_text())["properties"]
    shipped = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config = {key: spec.get("default") for key, spec in properties.items()} | shipped
    return config | PROBED | {"models": ["alexnet"], "weights": "none"} | overrides


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"few_shot_k": [0, 2]}, r"'few_shot_k.0' has a bad value 0 .*Allowed: a non-empty list"),
        ({"few_shot_k": [-1]}, r"'few_shot_k.0' has a bad value -1 .*from 1 to the training"),
        ({"few_shot_k": []}, r"'few_shot_k' has a bad value \[\] .*Allowed: a non-empty list"),
        ({"few_shot_draws": 0}, r"'few_shot_draws' has a bad value 0 .*Allowed: an integer >= 1"),
    ],
)
def test_schema_refuses_zero_or_negative_k_and_zero_draws(overrides, expected):
    with pytest.raises(UserError, match=expected):
        check_against_schema(_config(**overrides), SCHEMA)


def test_k_above_the_training_images_per_class_is_refused_at_planning():
    with pytest.raises(UserError) as caught:
        plan_workflow(_config(few_shot_k=[1, 16, 101]))
    assert (
        "config key 'few_shot_k': 101 is more than the 100 training images per class. Allowed: "
        "whole numbers from 1 to 100." in str(caught.value)
    )
    plan = plan_workflow(_config(few_shot_k=[100, 1]))  # the whole training set is allowed
    assert plan.few_shot == FewShotSettings((1, 100), 5, 0)
    # With the probe off the keys do not apply: no few-shot probe, nothing to refuse.
    assert plan_workflow(_config(linear_probe=False, few_shot_k=[101])).few_shot is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (((0, 2), 5, 0), r"few_shot_k holds 0\. Allowed: different whole numbers >= 1"),
        (((2, 2), 5, 0), r"few_shot_k lists a value twice \(\[2, 2\]\)\. Allowed"),
        (((), 5, 0), r"few_shot_k must be a non-empty list"),
        (((1,), 0, 0), r"few_shot_draws must be a whole number >= 1, got 0"),
        (((1,), 5, -1), r"few_shot_seed must be a whole number >= 0, got -1"),
    ],
)
def test_settings_refuse_what_the_schema_would_if_it_were_skipped(arguments, expected):
    with pytest.raises(UserError, match=expected):
        FewShotSettings(*arguments)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"calibration_bins": 1}, r"'calibration_bins' has a bad value 1 .*from 2 to 100"),
        ({"calibration_bins": 101}, r"'calibration_bins' has a bad value 101 .*from 2 to 100"),
        ({"paired_significance": 0}, r"'paired_significance' has a bad value 0 .*above 0"),
        ({"paired_significance": 0.5}, r"'paired_significance' has a bad value 0.5 .*below 0.5"),
    ],
)
def test_schema_refuses_calibration_bins_and_significance_out_of_range(overrides, expected):
    with pytest.raises(UserError, match=expected):
        check_against_schema(_config(**overrides), SCHEMA)
    # The defaults pass.
    check_against_schema(_config(), SCHEMA)
