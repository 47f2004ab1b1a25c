"""The prompt-similarity scoring method: a CLIP run's image embeddings against its class prompts.

Each CIFAR-10 class's score is the cosine similarity of the image's embedding with the class's
ensembled prompt embedding (text_job.py); the text side is checked to come from the same
model and weights as the image side before anything is scored.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.clip.similarity import prompt_scores
from cifar_zeroshot.methods.clip.text_job import TextEmbeddings, read_text_embeddings
from cifar_zeroshot.methods.interface import MethodScores, RunOutputs


@dataclass(frozen=True)
class PromptSimilarityMethod:
    texts: Mapping[str, tuple[Path, TextEmbeddings]]  # model (slug) -> its class embeddings

    name: ClassVar[str] = "prompt_similarity"
    setting_columns: ClassVar[tuple[str, ...]] = ("prompt_templates",)
    figure_columns: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_files(cls, paths: list[str] | list[Path]) -> "PromptSimilarityMethod":
        texts = {}
        for path in map(Path, paths):
            text = read_text_embeddings(path)
            texts[text.record.model] = (path, text)
        return cls(texts)

    def applies_to(self, run: RunOutputs) -> bool:
        return run.embeddings is not None

    def score(self, run: RunOutputs) -> MethodScores:
        model = run.facts.model
        if run.embeddings is None or model not in self.texts:
            raise UserError(
                f"{model} has no class prompt embeddings (results/clip_text/{model}.parquet). "
                "Fix: rerun snakemake, which encodes them."
            )
        path, text = self.texts[model]
        if text.record.weights != run.facts.weights:
            raise UserError(
                f"{path} was encoded with weights {text.record.weights!r}, but the image "
                f"embeddings of {model} with {run.facts.weights!r}. Fix: delete it and rerun."
            )
        scores = prompt_scores(run.embeddings, text.embeddings)
        return MethodScores(scores, {"prompt_templates": str(text.record.templates)}, {})

    @classmethod
    def describe(cls, settings: Mapping[str, str]) -> str:
        return f"CLIP prompt similarity ({settings['prompt_templates']} templates per class)"

    @classmethod
    def describe_markdown(cls, settings: Mapping[str, str]) -> str:
        return (
            "CLIP **prompt similarity** (cosine of image and class-prompt embeddings, "
            f"{settings['prompt_templates']} templates per class)"
        )
