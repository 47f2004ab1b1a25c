"""Tests for the scoring methods: the class-mapping method and the registry of methods."""

import numpy as np
import pytest
from run_files import GROUPS, make_facts

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods import registry
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.methods.clip.method import PromptSimilarityMethod
from cifar_zeroshot.methods.clip.text_job import TextEmbeddings, TextRecord, write_text_embeddings
from cifar_zeroshot.methods.interface import MethodInputs, RunOutputs
from cifar_zeroshot.methods.probe.method import LinearProbeMethod
from cifar_zeroshot.methods.probe.settings import ProbeRequest, ProbeSettings
from cifar_zeroshot.methods.scoring import pool
from cifar_zeroshot.records.probe_scores import ProbeRecord, write_probe_scores


def _outputs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return RunOutputs(
        facts=make_facts(image_count=n),
        image_index=np.arange(n),
        labels=rng.integers(0, 10, n),
        logits=(3 * rng.standard_normal((n, 1000))).astype(np.float32),
    )


@pytest.mark.parametrize("pooling", ["max_logit", "mean_prob", "sum_prob"])
def test_class_mapping_scores_with_its_pooling(pooling):
    run = _outputs()
    scored = ClassMappingMethod(GROUPS, pooling).score(run)
    np.testing.assert_array_equal(scored.scores, pool(run.logits, GROUPS, pooling))
    assert scored.settings == {"pooling": pooling}
    assert tuple(scored.figures) == ClassMappingMethod.figure_columns


def test_class_mapping_figures_on_known_logits():
    run = _outputs(n=4)
    logits = np.zeros((4, 1000), np.float32)
    logits[np.arange(4), [0, 10, 500, 31]] = 5.0  # class 0, class 1, unmapped, class 3
    run = RunOutputs(run.facts, run.image_index, np.array([0, 2, 5, 3]), logits)
    figures = ClassMappingMethod(GROUPS, "max_logit").score(run).figures
    assert figures["unrestricted_top1"] == 0.5
    assert figures["outside_mapped_share"] == 0.25
    assert figures["top1_max_logit"] == 0.5  # the unmapped winner leaves class 0 on top
    assert figures["unrestricted_top1_ci_low"] < 0.5 < figures["unrestricted_top1_ci_high"]


def test_class_mapping_refuses_bad_configuration():
    with pytest.raises(UserError, match="Unknown pooling 'median': set config pooling"):
        ClassMappingMethod(GROUPS, "median")
    with pytest.raises(UserError, match="has 9 groups but CIFAR-10 has 10 classes"):
        ClassMappingMethod(GROUPS[:9], "max_logit")


def test_class_mapping_describes_its_pooling():
    settings = {"pooling": "sum_prob"}
    assert ClassMappingMethod.describe(settings) == "ImageNet logits pooled by sum_prob"
    assert ClassMappingMethod.describe_markdown(settings) == (
        "CIFAR-10 scores pooled from ImageNet logits with **sum_prob**"
    )


def test_registry_names_and_columns():
    names = [method.name for method in registry.METHODS]
    assert names[0] == "class_mapping" and len(set(names)) == len(names)
    assert registry.method_class("class_mapping") is ClassMappingMethod
    with pytest.raises(ValueError, match="unknown scoring method 'clip'"):
        registry.method_class("clip")
    assert registry.method_class("linear_probe") is LinearProbeMethod
    assert registry.method_class("prompt_similarity") is PromptSimilarityMethod
    assert registry.SETTING_COLUMNS == (
        "pooling",
        "probe_regularisation",
        "prompt_templates",
    )
    assert (
        *ClassMappingMethod.figure_columns,
        *LinearProbeMethod.figure_columns,
        "top1_max_logit_balanced",
        "top1_mean_prob_balanced",
        "top1_sum_prob_balanced",
    ) == registry.FIGURE_COLUMNS
    assert registry.method_class("class_mapping+balanced").base is ClassMappingMethod
    assert registry.method_class("prompt_similarity+balanced_all").fit == "all"
    assert "linear_probe+balanced" not in names  # fitted with labels: no balanced variant


def test_the_registry_builds_the_methods_the_configuration_uses(tmp_path):
    only_mapping = registry.configured_methods(MethodInputs(GROUPS, "sum_prob"))
    mapping = ClassMappingMethod(GROUPS, "sum_prob")
    assert [m.name for m in only_mapping] == [
        "class_mapping",
        "class_mapping+balanced",
        "class_mapping+balanced_all",
    ]
    assert only_mapping[0] == mapping and all(m.inner == mapping for m in only_mapping[1:])
    unknown_prior = MethodInputs(GROUPS, "sum_prob", equal_class_prior=False)
    assert registry.configured_methods(unknown_prior) == [mapping]

    probe, text = tmp_path / "probe.parquet", tmp_path / "text.parquet"
    record = ProbeRecord(0.1, 0.5, [0.1], [0.5], 0.2, 50, 0, 3, 1.0, 100, 8, None, 1, None)
    rows = (np.arange(10), np.arange(10), np.eye(10, dtype=np.float32))
    write_probe_scores(probe, make_facts(image_count=10), rows, record)
    digest = "ab" * 32
    text_record = TextRecord("clip-RN50.openai", "none", "prompts.yaml", digest, 1, 100.0)
    write_text_embeddings(text, TextEmbeddings(np.eye(10, 4, dtype=np.float32), text_record))
    settings = ProbeSettings(0.2, (0.1,), 50, 0)
    inputs = MethodInputs(
        GROUPS,
        "sum_prob",
        probe_files={("resnet", "fp32"): probe},
        probe_request=ProbeRequest(settings, 100).to_params(),
        clip_text_files={"clip-RN50.openai": text},
        clip_prompts="prompts.yaml",
        clip_prompts_sha256=digest,
    )
    methods = registry.configured_methods(inputs)
    assert [type(method) for method in methods] == list(registry.METHODS)
    assert methods[1].probes[("resnet", "fp32")][0] == probe
    assert methods[2].texts["clip-RN50.openai"][0] == text
