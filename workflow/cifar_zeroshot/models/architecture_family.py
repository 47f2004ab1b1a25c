"""A model's architecture family, to colour a collection's models alike: 'resnet' for timm's
resnet50.a1_in1k and torchvision's resnet50, 'vgg' for vgg16_bn, 'vit' for vit_b_16.

The family is the leading letters of the architecture's first word: sizes, versions and
variants (digits, 'v3', '_bn', '_base') are dropped. A CLIP model's is its image tower's
('vit' for clip:ViT-B-32/openai). Words that only qualify the next one
('tf_', 'legacy_', 'gluon_') are skipped; 'wide_' stays with it (wide_resnet is its own design).
"""

import re

from cifar_zeroshot.models.family_registry import family_of_config_name

# timm's and torchvision's qualifiers of the architecture that follows them.
_SKIPPED = ("tf", "legacy", "gluon", "ssl", "swsl", "ig", "fb")
_JOINED = ("wide",)


def architecture_family(config_name: str) -> str:
    """The family of the model the config names ('timm:resnet50.a1_in1k' -> 'resnet',
    'clip:ViT-B-32/openai' -> 'vit')."""
    prefix = family_of_config_name(config_name).config_prefix
    architecture = config_name.strip()[len(prefix) :].lower().split(".")[0]
    words = re.split(r"[_/-]", architecture)
    while len(words) > 1 and words[0] in _SKIPPED:
        words = words[1:]
    if len(words) > 1 and words[0] in _JOINED:
        return f"{words[0]}_{_leading_name(words[1])}"
    return _leading_name(words[0])


def _leading_name(word: str) -> str:
    """'resnet50d' -> 'resnet', 'mobilenetv3' -> 'mobilenet', 'vgg16' -> 'vgg'."""
    match = re.match(r"([a-z]+?)(?:v\d.*|\d.*)?$", word)
    return match.group(1) if match and match.group(1) else word
