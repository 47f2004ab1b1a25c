"""How one model is run: numeric precision, torch.compile, and preprocessing protocol.

A variant's name is the `{variant}` wildcard of the inference outputs, so one model can be run
several ways side by side: "fp32", "bf16-compile", "fp32-labreport", "bf16-compile-labreport".
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from cifar_zeroshot.choices import PRECISIONS, PREPROCESSINGS, REFERENCE_PRECISION
from cifar_zeroshot.errors import UserError


@dataclass(frozen=True)
class Variant:
    precision: str = "fp32"
    compile: bool = False
    preprocess: str = "weights"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise UserError(
                f"Unknown precision {self.precision!r}: use one of {', '.join(PRECISIONS)}."
            )
        if self.preprocess not in PREPROCESSINGS:
            raise UserError(
                f"Unknown preprocess {self.preprocess!r}: use one of {', '.join(PREPROCESSINGS)}."
            )

    @property
    def name(self) -> str:
        parts = [self.precision]
        if self.compile:
            parts.append("compile")
        if self.preprocess != "weights":
            parts.append(self.preprocess)
        return "-".join(parts)

    @property
    def reference(self) -> "Variant":
        """The fp32 eager run with the same preprocessing: what agreement is measured against."""
        return Variant(REFERENCE_PRECISION, False, self.preprocess)

    @classmethod
    def parse(cls, name: str) -> "Variant":
        parts = name.split("-")
        precision, rest = parts[0], parts[1:]
        compile_ = bool(rest) and rest[0] == "compile"
        if compile_:
            rest = rest[1:]
        preprocess = rest[0] if rest else "weights"
        try:
            variant = cls(precision, compile_, preprocess)
        except UserError as error:
            raise UserError(f"Bad variant name {name!r}: {error}") from None
        if len(rest) > 1 or variant.name != name:
            raise UserError(
                f"Bad variant name {name!r}: expected <precision>[-compile][-labreport], "
                f"for example 'fp32', 'bf16-compile' or 'fp32-labreport'."
            )
        return variant


VARIANT_NAME_PATTERN = "|".join(
    Variant(p, c, pre).name
    for p, c, pre in itertools.product(PRECISIONS, (False, True), PREPROCESSINGS)
)


def variants_from_config(
    precisions: Iterable[str], compiles: Iterable[bool], preprocessings: Iterable[str]
) -> list[Variant]:
    """Every combination the configuration asks for, in a stable order, without repeats."""
    seen: dict[str, Variant] = {}
    for preprocess, precision, compile_ in itertools.product(preprocessings, precisions, compiles):
        variant = Variant(precision, bool(compile_), preprocess)
        seen.setdefault(variant.name, variant)
    return list(seen.values())
