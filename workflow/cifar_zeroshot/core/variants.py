"""How one model is run: numeric precision, runtime, torch.compile, and preprocessing protocol.

A variant's name is the `{variant}` wildcard of the inference outputs, so one model can be run
several ways side by side: "fp32", "bf16-compile", "fp32-onnxruntime", "fp32-labreport",
"bf16-compile-labreport". The torch runtime is the reference and is not named, so the files of
runs made before the runtime axis existed keep their names.
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from cifar_zeroshot.core.choices import (
    ONNXRUNTIME_PRECISIONS,
    PRECISIONS,
    PREPROCESSINGS,
    REFERENCE_PRECISION,
    REFERENCE_RUNTIME,
    RUNTIMES,
)
from cifar_zeroshot.core.errors import UserError

_NAME_SYNTAX = (
    "expected <precision>[-compile|-onnxruntime][-labreport], for example 'fp32', "
    "'bf16-compile', 'fp32-onnxruntime' or 'fp32-labreport'"
)


@dataclass(frozen=True)
class Variant:
    precision: str = "fp32"
    compile: bool = False
    preprocess: str = "weights"
    runtime: str = REFERENCE_RUNTIME

    def __post_init__(self) -> None:
        for key, value, allowed in (
            ("precision", self.precision, PRECISIONS),
            ("preprocess", self.preprocess, PREPROCESSINGS),
            ("runtime", self.runtime, RUNTIMES),
        ):
            if value not in allowed:
                raise UserError(f"Unknown {key} {value!r}: use one of {', '.join(allowed)}.")
        if self.runtime == "onnxruntime":
            if self.compile:
                raise UserError(
                    "torch.compile applies to the torch runtime only, not to onnxruntime: drop "
                    "compile from this variant."
                )
            if self.precision not in ONNXRUNTIME_PRECISIONS:
                raise UserError(
                    f"The onnxruntime runtime runs precision {' or '.join(ONNXRUNTIME_PRECISIONS)}"
                    f" (the exported graph is fp32), not {self.precision}: use the torch "
                    f"runtime for {self.precision}."
                )

    @property
    def name(self) -> str:
        parts = [self.precision]
        if self.compile:
            parts.append("compile")
        if self.runtime != REFERENCE_RUNTIME:
            parts.append(self.runtime)
        if self.preprocess != "weights":
            parts.append(self.preprocess)
        return "-".join(parts)

    @property
    def reference(self) -> "Variant":
        """The torch fp32 eager run with the same preprocessing: agreement is measured with it."""
        return Variant(REFERENCE_PRECISION, False, self.preprocess, REFERENCE_RUNTIME)

    @classmethod
    def parse(cls, name: str) -> "Variant":
        precision, *rest = name.split("-")
        compile_ = bool(rest) and rest[0] == "compile"
        if compile_:
            rest = rest[1:]
        runtime = REFERENCE_RUNTIME
        if rest and rest[0] in RUNTIMES and rest[0] != REFERENCE_RUNTIME:
            runtime, rest = rest[0], rest[1:]
        preprocess = rest[0] if rest else "weights"
        try:
            variant = cls(precision, compile_, preprocess, runtime)
        except UserError as error:
            raise UserError(f"Bad variant name {name!r}: {error}") from None
        if len(rest) > 1 or variant.name != name:
            raise UserError(f"Bad variant name {name!r}: {_NAME_SYNTAX}.")
        return variant


def _valid(precision: str, compile_: bool, preprocess: str, runtime: str) -> Variant | None:
    try:
        return Variant(precision, compile_, preprocess, runtime)
    except UserError:
        return None


VARIANT_NAME_PATTERN = "|".join(
    variant.name
    for combination in itertools.product(PRECISIONS, (False, True), PREPROCESSINGS, RUNTIMES)
    if (variant := _valid(*combination)) is not None
)


def variants_from_config(
    precisions: Iterable[str],
    compiles: Iterable[bool],
    preprocessings: Iterable[str],
    runtimes: Iterable[str],
) -> list[Variant]:
    """Every combination the configuration asks for, in a stable order, without repeats.

    torch.compile is a torch setting, so onnxruntime runs once whatever `compile` lists; the
    precisions onnxruntime cannot run stay torch-only. A runtime left with no variant is an error.
    """
    precisions, runtimes = list(precisions), list(runtimes)
    seen: dict[str, Variant] = {}
    combinations = itertools.product(preprocessings, precisions, runtimes, compiles)
    for preprocess, precision, runtime, compile_ in combinations:
        if runtime == "onnxruntime" and precision not in ONNXRUNTIME_PRECISIONS:
            continue
        compiled = bool(compile_) and runtime != "onnxruntime"
        variant = Variant(precision, compiled, preprocess, runtime)
        seen.setdefault(variant.name, variant)
    for runtime in runtimes:
        if not any(v.runtime == runtime for v in seen.values()):
            raise UserError(
                f"config key 'runtime': {runtime} runs precision "
                f"{' or '.join(ONNXRUNTIME_PRECISIONS)} only, and precision lists "
                f"{', '.join(precisions)}. Add fp32 to precision, or drop {runtime} from runtime."
            )
    return list(seen.values())
