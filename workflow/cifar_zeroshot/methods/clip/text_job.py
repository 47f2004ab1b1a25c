"""The text side of a CLIP model as a job: the prompts -> one embedding per CIFAR-10 class.

results/clip_text/{model}.parquet holds ten rows (class, unit embedding) and, in its metadata, a
TextRecord: which model and weights encoded which prompts (their digest), so the scoring can
check that the text side belongs to the image side it is compared with. It runs on the CPU in
fp32: 180 prompts take seconds, and a GPU would only be held for them.
"""

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.records.parquet_rows import metadata_json, open_parquet
from cifar_zeroshot.records.run_facts import dataclass_from_mapping

log = logging.getLogger(__name__)

TEXT_METADATA_KEY = b"cifar_zeroshot_clip_text"


@dataclass(frozen=True)
class TextRecord:
    model: str  # the slug, e.g. clip-ViT-B-32.openai
    weights: str  # as the run facts record it: "none" or "ViT-B-32/openai"
    prompts_path: str
    prompts_sha256: str
    templates: int
    # exp of the model's learned logit scale: similarities x this are CLIP's logits.
    logit_scale: float

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], path: Path) -> "TextRecord":
        return dataclass_from_mapping(cls, raw, path, "a text record")


@dataclass(frozen=True)
class TextEmbeddings:
    embeddings: np.ndarray  # float32 [10, D], CIFAR-10 label order, unit rows
    record: TextRecord


def write_text_embeddings(path: str | Path, text: TextEmbeddings) -> None:
    embeddings = np.ascontiguousarray(text.embeddings, dtype=np.float32)
    width = embeddings.shape[1]
    table = pa.table(
        {
            "cifar_class": pa.array(list(CIFAR10_CLASSES)),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(embeddings.reshape(-1)), width),
        }
    )
    metadata = {TEXT_METADATA_KEY: json.dumps(asdict(text.record), sort_keys=True)}
    with atomic_path(Path(path)) as temp:
        pq.write_table(table.replace_schema_metadata(metadata), temp)


def read_text_embeddings(path: str | Path) -> TextEmbeddings:
    path = Path(path)
    parquet = open_parquet(path)
    record = TextRecord.from_mapping(
        metadata_json(path, parquet.schema_arrow, TEXT_METADATA_KEY, "text record"), path
    )
    table = parquet.read()
    classes = table.column("cifar_class").to_pylist() if "cifar_class" in table.column_names else []
    if classes != list(CIFAR10_CLASSES) or "embedding" not in table.column_names:
        raise UserError(
            f"{path} does not hold one embedding per CIFAR-10 class. Delete it and rerun."
        )
    flat = table.column("embedding").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    embeddings = flat.reshape(len(classes), -1).astype(np.float32)
    if not np.isfinite(embeddings).all():
        raise UserError(f"{path} holds NaN or infinite embeddings. Delete it and rerun.")
    return TextEmbeddings(embeddings, record)


def run_text_job(model: str, weights: str, prompts_path: str | Path, out_path: str | Path) -> None:
    """Encode the prompts with the text tower of CLIP model ``model`` (a slug)."""
    from cifar_zeroshot.methods.clip.prompts import load_prompts, prompts_digest
    from cifar_zeroshot.methods.clip.text import class_embeddings
    from cifar_zeroshot.models.clip.names import (
        clip_weights_label,
        spec_from_slug,
        untrained_weights,
    )
    from cifar_zeroshot.models.clip.weights import load_clip_model  # open_clip: only in this job

    spec = spec_from_slug(model)
    untrained = untrained_weights(spec, weights)
    prompts = load_prompts(prompts_path)
    clip_model = load_clip_model(spec, untrained)
    embeddings = class_embeddings(clip_model, spec.architecture, prompts)
    record = TextRecord(
        model=model,
        weights=clip_weights_label(spec, weights),
        prompts_path=str(prompts_path),
        prompts_sha256=prompts_digest(prompts),
        templates=len(prompts.templates),
        logit_scale=float(clip_model.logit_scale.detach().exp()),
    )
    write_text_embeddings(out_path, TextEmbeddings(embeddings, record))
    log.info("%s: %d prompts per class encoded", model, record.templates)
