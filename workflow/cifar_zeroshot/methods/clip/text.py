"""The text side of CLIP zero-shot scoring: one embedding per CIFAR-10 class from its prompts.

Prompt ensembling in embedding space, as in the CLIP paper (Radford et al. 2021, section 3.1.4)
and openai/CLIP's notebooks/Prompt_Engineering_for_ImageNet.ipynb: every prompt of a class is
encoded and normalised, the class's prompts are averaged, and the average is normalised.
"""

import numpy as np
import open_clip
import torch
import torch.nn.functional as F

from cifar_zeroshot.methods.clip.prompts import ClipPrompts

__all__ = ["class_embeddings"]


@torch.inference_mode()
def class_embeddings(
    model: torch.nn.Module,
    architecture: str,
    prompts: ClipPrompts,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """float32 [classes, D]: each class's unit-length ensembled text embedding.

    ``model`` is an open_clip model of ``architecture`` (its tokenizer is the architecture's),
    already on ``device``; all prompts go through it as one batch, so the result repeats exactly.
    """
    texts = prompts.texts()
    classes, templates = len(texts), len(texts[0])
    tokenizer = open_clip.get_tokenizer(architecture)
    tokens = tokenizer([text for per_class in texts for text in per_class]).to(device)
    # float32 before normalising: a bf16 model's features would lose precision in the norm.
    features = F.normalize(model.encode_text(tokens).float(), dim=-1)
    means = features.view(classes, templates, -1).mean(dim=1)
    return F.normalize(means, dim=-1).cpu().numpy().astype(np.float32)
