"""A CLIP model's image tower, the part inference runs: images -> unit embeddings."""

import open_clip
import torch
import torch.nn.functional as F

from cifar_zeroshot.models.clip.preprocess import clip_preprocess_spec, image_size


class ImageTower(torch.nn.Module):
    """A CLIP model's image side: preprocessed images [B, 3, h, w] -> unit embeddings [B, D].

    The embeddings are float32 whatever the model's dtype: normalised in bf16 (8-bit mantissa),
    their length would be 1 only to about 0.4 %.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        # What the inference job reads off its forward (a torchvision model has neither):
        # the width of each output row, and the preprocessing the weights expect.
        self.output_width = embedding_width(model)
        self.preprocess_spec = clip_preprocess_spec(model)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model.encode_image(images).float(), dim=-1)


@torch.inference_mode()
def embedding_width(model: torch.nn.Module) -> int:
    """D, the width of the model's image (and text) embeddings, from one blank image.

    open_clip's towers do not all record it (timm towers do not), so one forward pass tells.
    """
    parameter = next(model.parameters())
    size = image_size(open_clip.get_model_preprocess_cfg(model))
    probe = torch.zeros(1, 3, *size, device=parameter.device, dtype=parameter.dtype)
    return int(model.encode_image(probe).shape[-1])
