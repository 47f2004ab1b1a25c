"""The prompt-similarity scoring method: a CLIP run's image embeddings against its class prompts.

Each CIFAR-10 class's score is the cosine similarity of the image's embedding with the class's
ensembled prompt embedding (methods/clip/text_job.py); the text side is checked to be the
configured model's, encoded from the configured prompts, with the same weights as the image
side, before anything is scored.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.methods.clip.similarity import prompt_scores
from cifar_zeroshot.methods.clip.text_job import TextEmbeddings, read_text_embeddings
from cifar_zeroshot.methods.interface import MethodInputs, MethodScores, RunOutputs, read_stored
from cifar_zeroshot.methods.probabilities import clip_probabilities
from cifar_zeroshot.records.run_facts import fact_differences


@dataclass(frozen=True)
class PromptSimilarityMethod:
    texts: Mapping[str, tuple[Path, TextEmbeddings]]  # model (slug) -> its class embeddings

    name: ClassVar[str] = "prompt_similarity"
    setting_columns: ClassVar[tuple[str, ...]] = ("prompt_templates",)
    figure_columns: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def configured(cls, inputs: MethodInputs) -> Self | None:
        if not inputs.clip_text_files:
            return None  # no CLIP model in the configuration

        def differences(model: str, text: TextEmbeddings) -> list[str]:
            record = text.record
            held = {"model": record.model, "prompts_sha256": record.prompts_sha256}
            wrong = fact_differences(
                held, {"model": model, "prompts_sha256": inputs.clip_prompts_sha256}
            )
            if record.prompts_sha256 != inputs.clip_prompts_sha256:
                wrong[-1] += (
                    f" (it holds the prompts of {record.prompts_path}, {record.templates} "
                    f"templates per class; the configuration asks for {inputs.clip_prompts})"
                )
            return wrong

        texts = read_stored(
            inputs.clip_text_files, read_text_embeddings, differences, "class prompt embeddings"
        )
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
        probabilities = clip_probabilities(scores, text.record.logit_scale)
        settings = {"prompt_templates": str(text.record.templates)}
        return MethodScores(scores, settings, {}, probabilities)

    @classmethod
    def describe(cls, settings: Mapping[str, str]) -> str:
        return f"CLIP prompt similarity ({settings['prompt_templates']} templates per class)"

    @classmethod
    def describe_markdown(cls, settings: Mapping[str, str]) -> str:
        return (
            "CLIP **prompt similarity** (cosine of image and class-prompt embeddings, "
            f"{settings['prompt_templates']} templates per class)"
        )
