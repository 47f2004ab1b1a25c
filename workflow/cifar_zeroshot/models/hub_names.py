"""What timm and CLIP model names share: an architecture with one of its pretrained tags.

The config names one `<prefix><architecture><separator><tag>` ('timm:resnet50.a1_in1k',
'clip:ViT-B-32/openai'); its results folder (the slug) is `<slug prefix><architecture>.<tag>`.
Both parts must be safe in a folder name. Its weights are named by the tag: 'none' (untrained;
the tag then only names the model and picks its preprocessing), 'DEFAULT' or the tag itself.
Each family's names.py subclasses HubSpec with its prefixes, patterns and wording.
"""

import difflib
import re
from dataclasses import dataclass
from typing import ClassVar

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.core.errors import UserError

DEFAULT_WEIGHTS = "DEFAULT"


def strip_prefix(text: object, prefix: str) -> str | None:
    """What follows ``prefix`` (in any case) in a config name, stripped; None for another name."""
    if not isinstance(text, str) or text[: len(prefix)].lower() != prefix:
        return None
    return text[len(prefix) :].strip()


def close_matches(word: str, choices: list[str]) -> list[str]:
    """difflib's close matches, ignoring case (users write 'vit-b-32' for 'ViT-B-32')."""
    by_lower = {choice.lower(): choice for choice in choices}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=5, cutoff=0.6)
    return [by_lower[match] for match in found]


def did_you_mean(word: str, choices: list[str]) -> str:
    close = close_matches(word, choices)
    return f" Did you mean {', '.join(close)}?" if close else ""


@dataclass(frozen=True)
class HubSpec:
    """One architecture with one of its pretrained tags; subclasses say how their family
    writes it."""

    architecture: str
    tag: str

    KIND: ClassVar[str]  # how messages name the family: 'timm', 'CLIP'
    CONFIG_PREFIX: ClassVar[str]  # 'timm:'
    CONFIG_SEPARATOR: ClassVar[str]  # between architecture and tag in the config name
    SLUG_PREFIX: ClassVar[str]  # 'timm-'
    ARCHITECTURE_PATTERN: ClassVar[str]
    TAG_PATTERN: ClassVar[str]
    ARCHITECTURE_WORD: ClassVar[str]  # how messages call the architecture part
    ALLOWED: ClassVar[tuple[str, str]]  # the characters each part may hold, in words
    SYNTAX: ClassVar[str]  # how to write a name, with an example
    SLUG_EXAMPLE: ClassVar[str]

    def __post_init__(self) -> None:
        # Both parts become a results folder name: only safe characters may get there.
        for part, value, pattern, allowed in (
            (self.ARCHITECTURE_WORD, self.architecture, self.ARCHITECTURE_PATTERN, self.ALLOWED[0]),
            ("tag", self.tag, self.TAG_PATTERN, self.ALLOWED[1]),
        ):
            if not isinstance(value, str) or not re.fullmatch(pattern, value):
                raise UserError(
                    f"{self.KIND} model {self.config_name}: the {part} {value!r} may hold only "
                    f"{allowed}; {self.SYNTAX}."
                )

    @property
    def config_name(self) -> str:
        """How the config names it: 'timm:resnet50.a1_in1k', 'clip:ViT-B-32/openai'."""
        return f"{self.CONFIG_PREFIX}{self.architecture}{self.CONFIG_SEPARATOR}{self.tag}"

    @property
    def slug(self) -> str:
        """Its results folder name: 'timm-resnet50.a1_in1k', 'clip-ViT-B-32.openai'."""
        return f"{self.SLUG_PREFIX}{self.architecture}.{self.tag}"

    @classmethod
    def slug_pattern(cls) -> str:
        """A regex (and Snakemake wildcard constraint) matching exactly the family's slugs."""
        return rf"{cls.SLUG_PREFIX}{cls.ARCHITECTURE_PATTERN}\.{cls.TAG_PATTERN}"

    @classmethod
    def from_slug(cls, slug: str) -> "HubSpec":
        """The spec whose slug (results folder name) is ``slug``."""
        pattern = rf"{cls.SLUG_PREFIX}(?P<a>{cls.ARCHITECTURE_PATTERN})\.(?P<t>{cls.TAG_PATTERN})"
        match = re.fullmatch(pattern, slug) if isinstance(slug, str) else None
        if match is None:
            raise UserError(
                f"{slug!r} is not the folder name of a {cls.KIND} model: expected "
                f"{cls.SLUG_PREFIX}<{cls.ARCHITECTURE_WORD}>.<tag>, for example "
                f"{cls.SLUG_EXAMPLE}. Rename the folder or rerun the workflow."
            )
        return cls(match["a"], match["t"])

    def other_tags_hint(self) -> str:
        """Appended where weights are refused: the architecture's tags, where cheap to know."""
        return ""

    def untrained(self, weights: str) -> bool:
        """Whether the weights setting means an untrained model: 'none' yes; 'DEFAULT' or the
        tag no; anything else is refused."""
        text = str(weights).strip()
        if text.lower() == NONE_WEIGHTS:
            return True
        if text in (DEFAULT_WEIGHTS, self.tag):
            return False
        raise UserError(
            f"Weights {weights!r} do not fit {self.KIND} model {self.config_name}: a {self.KIND} "
            f"model's weights are named by its tag. Use {DEFAULT_WEIGHTS} (or {self.tag}) for "
            f"the {self.tag} weights or {NONE_WEIGHTS} for an untrained model; for other "
            f"weights, name another tag in the model: "
            f"{self.CONFIG_PREFIX}{self.architecture}{self.CONFIG_SEPARATOR}<tag>"
            f"{self.other_tags_hint()}."
        )
