"""Model collections in the configuration: expanded at planning into checked model names, each
model once, with the published top-1 and architecture family the metrics rule passes on."""

import hashlib
from pathlib import Path

import pytest
import yaml
from loopback_http import serve_folder
from workflow_runner import REPO

from cifar_zeroshot.config.planning import plan_workflow
from cifar_zeroshot.config.published_tables import fetch_timm_results
from cifar_zeroshot.config.schema import check_against_schema
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.timm import published as timm_published
from cifar_zeroshot.models.timm.published import TIMM_RESULTS_VARIABLE, PinnedTable

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
TABLE = """model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation
resnet50.a1_in1k,224,80.382,19.618,94.612,5.388,25.56,0.950,bicubic
"""
# Small models that run untrained and offline: timm's test models (under 1 M parameters each)
# and torchvision's classifiers of at most 4 M published parameters.
SMALL_MODELS = ["timm:test_*", {"collection": "torchvision:all", "max_params_m": 4}]


def _config(**overrides):
    schema = yaml.safe_load(SCHEMA.read_text())
    config = {key: spec.get("default") for key, spec in schema["properties"].items()}
    config.update(yaml.safe_load((REPO / "config/config.yaml").read_text()))
    config["class_mapping"] = str(REPO / "config/class_mapping.yaml")
    config["clip_prompts"] = str(REPO / "config/clip_prompts.yaml")
    config.update(overrides)
    return config


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "results-imagenet.csv"
    path.write_text(TABLE, encoding="utf-8")
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(path))
    return path


def test_a_collection_expands_in_its_place_and_a_named_model_keeps_its_weights(table):
    plan = plan_workflow(
        _config(
            models=[
                "alexnet",
                "timm:resnet*.a1_in1k",
                {"name": "timm:resnet50", "weights": "none"},  # also in the collection
                {"collection": "timm:resnet1*.a1_in1k", "weights": "none"},  # overlaps it
            ]
        )
    )
    slugs = [m.name for m in plan.models]
    assert slugs == [
        "alexnet",
        "timm-resnet18.a1_in1k",
        "timm-resnet34.a1_in1k",
        "timm-resnet50d.a1_in1k",
        "timm-resnet101.a1_in1k",
        "timm-resnet152.a1_in1k",
        "timm-resnet50.a1_in1k",
    ]
    assert plan.model_weights["timm-resnet50.a1_in1k"] == "none"
    assert plan.model_weights["timm-resnet101.a1_in1k"] == "DEFAULT"  # the first collection's
    assert plan.collection_record == {
        "timm:resnet*.a1_in1k": [
            "timm:resnet18.a1_in1k",
            "timm:resnet34.a1_in1k",
            "timm:resnet50.a1_in1k",
            "timm:resnet50d.a1_in1k",
            "timm:resnet101.a1_in1k",
            "timm:resnet152.a1_in1k",
        ],
        "timm:resnet1*.a1_in1k": [
            "timm:resnet18.a1_in1k",
            "timm:resnet101.a1_in1k",
            "timm:resnet152.a1_in1k",
        ],
    }
    assert plan.collection_notes[0].startswith("collection timm:resnet*.a1_in1k -> 6 models: ")
    # Published top-1 as a fraction: torchvision's meta, timm's table; None untrained or absent.
    assert plan.published_top1["alexnet"] == pytest.approx(0.56522)
    assert plan.published_top1["timm-resnet50.a1_in1k"] is None  # untrained here
    assert plan.published_top1["timm-resnet18.a1_in1k"] is None  # not in this table


def test_a_collection_model_named_twice_on_its_own_is_still_refused():
    with pytest.raises(UserError, match="'resnet18' is listed twice"):
        plan_workflow(_config(models=["resnet18", "torchvision:resnet*", "resnet18"]))


def test_a_bad_collection_is_listed_with_the_other_problems():
    with pytest.raises(UserError) as caught:
        plan_workflow(_config(models=["timm:resnt*.a1_in1k", "alexnet:V9", "timm:*_in1k"]))
    message = str(caught.value)
    assert "config key 'models': collection timm:resnt*.a1_in1k matches no model" in message
    assert "Unknown weights 'V9'" in message
    assert "Fix: confirm the count with {collection: 'timm:*_in1k', confirm: " in message


def test_a_collections_weights_are_checked_as_a_named_models_are():
    with pytest.raises(UserError, match="Unknown weights 'IMAGENET1K_V2' for model 'alexnet'"):
        plan_workflow(
            _config(models=[{"collection": "torchvision:alex*", "weights": "IMAGENET1K_V2"}])
        )


def test_small_untrained_collections_plan_at_least_twenty_models(tmp_path, monkeypatch):
    monkeypatch.setenv(TIMM_RESULTS_VARIABLE, str(tmp_path / "absent.csv"))  # not needed
    plan = plan_workflow(_config(models=SMALL_MODELS, weights="none", precision=["fp32"]))
    assert len(plan.models) >= 20
    assert all(m.weights == "none" for m in plan.models)
    assert all(top1 is None for top1 in plan.published_top1.values())
    assert {"squeezenet1_1", "timm-test_vit.r160_in1k", "mobilenet_v3_small"} <= {
        m.name for m in plan.models
    }


def test_the_schema_takes_collections_as_strings_and_mappings():
    config = _config(
        models=[
            "torchvision:all",
            {"collection": "timm:*_in1k", "max_params_m": 30, "exclude": ["*vit*"], "limit": 50},
            {"collection": "timm:*_in1k", "confirm": 1000, "weights": "none"},
        ]
    )
    check_against_schema(config, SCHEMA)
    config["models"] = [{"collection": "timm:*_in1k", "max_params_m": -1}]
    with pytest.raises(UserError, match="max_params_m"):
        check_against_schema(config, SCHEMA)


def test_planning_reads_the_table_it_downloaded_into_its_cache(tmp_path, monkeypatch):
    """What common.smk does: download at planning, then plan with the cached table."""
    monkeypatch.delenv(TIMM_RESULTS_VARIABLE, raising=False)
    served, workdir = tmp_path / "served", tmp_path / "workdir"
    served.mkdir()
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    table = TABLE + "resnet18.a1_in1k,224,71.490,28.510,88.992,11.008,11.69,0.950,bicubic\n"
    (served / "results-imagenet.csv").write_text(table, encoding="utf-8")
    config = _config(
        models=["timm:resnet50.a1_in1k", {"collection": "timm:resnet*.a1_in1k", "max_params_m": 20}]
    )
    with serve_folder(served) as base:
        pinned = PinnedTable(
            f"{base}/results-imagenet.csv",
            hashlib.sha256(table.encode()).hexdigest(),
            len(table.encode()),
            Path("data/published/timm-results-imagenet.csv"),
        )
        monkeypatch.setattr(timm_published, "TIMM_RESULTS", pinned)
        assert fetch_timm_results(config, pinned).level == "NOTE"
    plan = plan_workflow(config)
    assert plan.collection_record == {"timm:resnet*.a1_in1k": ["timm:resnet18.a1_in1k"]}
    assert plan.published_top1 == {
        "timm-resnet50.a1_in1k": pytest.approx(0.80382),
        "timm-resnet18.a1_in1k": pytest.approx(0.71490),
    }


def test_without_the_table_timms_top1_is_empty_and_max_params_m_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(TIMM_RESULTS_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)  # no cache here
    plan = plan_workflow(_config(models=["alexnet", "timm:resnet50.a1_in1k"]))
    assert plan.published_top1["timm-resnet50.a1_in1k"] is None
    assert plan.published_top1["alexnet"] == pytest.approx(0.56522)
    with pytest.raises(UserError, match=r"max_params_m filters by .*data/published/timm-results"):
        plan_workflow(_config(models=[{"collection": "timm:resnet*.a1_in1k", "max_params_m": 20}]))
