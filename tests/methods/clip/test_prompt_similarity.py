"""Zero-shot scores: cosine similarities, against an independent computation; the method's
class embeddings files, checked against the configuration."""

import math

import numpy as np
import pytest
from run_files import GROUPS, make_facts

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.clip.method import PromptSimilarityMethod
from cifar_zeroshot.methods.clip.similarity import prompt_scores
from cifar_zeroshot.methods.clip.text_job import TextEmbeddings, TextRecord, write_text_embeddings
from cifar_zeroshot.methods.interface import MethodInputs, RunOutputs


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    dot = sum(float(x) * float(y) for x, y in zip(a, b, strict=True))
    return dot / (
        math.sqrt(sum(float(x) ** 2 for x in a)) * math.sqrt(sum(float(y) ** 2 for y in b))
    )


def test_scores_are_cosine_similarities_of_unnormalised_inputs() -> None:
    rng = np.random.default_rng(0)
    images = rng.normal(size=(7, 16)) * rng.uniform(0.1, 5.0, size=(7, 1))
    classes = rng.normal(size=(10, 16)) * 3.0

    scores = prompt_scores(images.astype(np.float32), classes.astype(np.float32))

    expected = np.array([[_cosine(i, c) for c in classes] for i in images])
    assert scores.shape == (7, 10) and scores.dtype == np.float32
    assert np.allclose(scores, expected, atol=1e-6)
    assert np.array_equal(scores.argmax(axis=1), expected.argmax(axis=1))


def test_a_zero_embedding_scores_zero_not_nan() -> None:
    images = np.zeros((1, 4), dtype=np.float32)
    scores = prompt_scores(images, np.eye(4, dtype=np.float32))
    assert np.array_equal(scores, np.zeros((1, 4), dtype=np.float32))


def test_embeddings_of_different_widths_are_refused() -> None:
    with pytest.raises(UserError, match="512 wide but the class embeddings 768.*same model"):
        prompt_scores(np.ones((2, 512)), np.ones((10, 768)))


def test_embeddings_must_be_matrices() -> None:
    with pytest.raises(UserError, match=r"image embeddings must be a 2-D array.*\(512,\)"):
        prompt_scores(np.ones(512), np.ones((10, 512)))


SLUG = "clip-ViT-B-32.openai"
PROMPTS_SHA256 = "ab" * 32  # the configured prompts' digest
RECORD = TextRecord(SLUG, "none", "config/clip_prompts.yaml", PROMPTS_SHA256, 18, 100.0)


def _text_file(path, record=RECORD):
    embeddings = np.eye(10, 16, dtype=np.float32)
    write_text_embeddings(path, TextEmbeddings(embeddings, record))
    return path


def _method(path, model=SLUG) -> PromptSimilarityMethod | None:
    """The method as the metrics job builds it, with ``path`` as the file of ``model``."""
    inputs = MethodInputs(
        GROUPS,
        "max_logit",
        clip_text_files={model: path},
        clip_prompts="config/clip_prompts.yaml",
        clip_prompts_sha256=PROMPTS_SHA256,
    )
    return PromptSimilarityMethod.configured(inputs)


def _refusal(path, wrong: str) -> str:
    return (
        f"{path} is not the class prompt embeddings the configuration asks for: {wrong}. It "
        "comes from another run (a file copied, restored or edited), so metrics from it would "
        f"not describe this configuration. Fix: rerun that job with `snakemake --forcerun "
        f"{path}` (with your usual --configfile/--config), or delete {path} and rerun snakemake."
    )


def test_the_configured_text_file_scores_the_models_run(tmp_path):
    method = _method(_text_file(tmp_path / "text.parquet"))
    embeddings = np.eye(3, 16, dtype=np.float32)[[2, 0, 1]]
    facts = make_facts(SLUG, weights="none", image_count=3)
    run = RunOutputs(facts, np.arange(3), np.array([2, 0, 1]), None, embeddings)
    scored = method.score(run)
    assert scored.scores.argmax(axis=1).tolist() == [2, 0, 1]
    assert scored.settings == {"prompt_templates": "18"}
    # Calibration's probabilities: the softmax of the cosines times the stored logit scale (100):
    # cosine 1 for the right class, 0 for the nine others.
    right = np.exp(100.0) / (np.exp(100.0) + 9)
    np.testing.assert_allclose(scored.probabilities.max(axis=1), right)
    np.testing.assert_allclose(scored.probabilities.sum(axis=1), 1.0)


def test_the_method_is_off_without_clip_models():
    assert PromptSimilarityMethod.configured(MethodInputs(GROUPS, "max_logit")) is None


def test_class_embeddings_of_other_prompts_are_refused(tmp_path):
    # Issue 24: encoded from a one-template file, reported as "1 templates per class" in a run
    # configured with the 18-template file.
    other = TextRecord(SLUG, "none", "one-template.yaml", "cd" * 32, 1, 100.0)
    path = _text_file(tmp_path / "text.parquet", other)
    with pytest.raises(UserError) as caught:
        _method(path)
    assert str(caught.value) == _refusal(
        path,
        "prompts_sha256 is 'cdcdcdcdcdcd...', expected 'abababababab...' (it holds the prompts "
        "of one-template.yaml, 1 templates per class; the configuration asks for "
        "config/clip_prompts.yaml)",
    )


def test_another_models_class_embeddings_in_this_models_file_are_refused(tmp_path):
    # Keyed by what it held, this model used to have "no class prompt embeddings", and a rerun
    # of snakemake did not replace the file.
    other = TextRecord(
        "clip-RN50.openai", "none", "config/clip_prompts.yaml", PROMPTS_SHA256, 18, 100.0
    )
    path = _text_file(tmp_path / "text.parquet", other)
    with pytest.raises(UserError) as caught:
        _method(path)
    assert str(caught.value) == _refusal(
        path, "model is 'clip-RN50.openai', expected 'clip-ViT-B-32.openai'"
    )
