"""How one model is run: numeric precision, runtime, torch.compile, and preprocessing protocol.

A variant's name is the `{variant}` wildcard of the inference outputs, so one model can be run
several ways side by side: "fp32", "bf16-compile", "fp32-onnxruntime", "fp32-labreport",
"bf16-compile-labreport". The torch runtime is the reference and is not named, so the files of
runs made before the runtime axis existed keep their names.
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from cifar_zeroshot.core import runtime_table
from cifar_zeroshot.core.choices import (
    PRECISIONS,
    PREPROCESSINGS,
    REFERENCE_PRECISION,
    REFERENCE_RUNTIME,
    RUNTIMES,
)
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.runtime_table import Runtime

# The name's middle part: compile, or a runtime other than the reference (which is not named).
_MIDDLES = "|-".join(["compile", *(name for name in RUNTIMES if name != REFERENCE_RUNTIME)])
_NAME_SYNTAX = (
    f"expected <precision>[-{_MIDDLES}][-labreport], for example 'fp32', "
    "'bf16-compile', 'fp32-onnxruntime' or 'fp32-labreport'"
)


def _unknown(key: str, value: str, allowed: Iterable[str]) -> str:
    return f"Unknown {key} {value!r}: use one of {', '.join(allowed)}."


def _runtime(name: str) -> Runtime:
    if name not in RUNTIMES:
        raise UserError(_unknown("runtime", name, RUNTIMES))
    return runtime_table.RUNTIMES[name]


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
        ):
            if value not in allowed:
                raise UserError(_unknown(key, value, allowed))
        spec = _runtime(self.runtime)
        if self.compile and not spec.compiles:
            raise UserError(
                f"torch.compile applies to the {REFERENCE_RUNTIME} runtime only, not to "
                f"{self.runtime}: drop compile from this variant."
            )
        if not spec.runs(self.precision):
            graph = " (the exported graph is fp32)" if spec.reads_export else ""
            raise UserError(
                f"The {self.runtime} runtime runs precision {' or '.join(spec.precisions)}"
                f"{graph}, not {self.precision}: use the {REFERENCE_RUNTIME} "
                f"runtime for {self.precision}."
            )

    @property
    def runtime_spec(self) -> Runtime:
        """What the runtime table says about this variant's runtime."""
        return runtime_table.RUNTIMES[self.runtime]

    @property
    def quantised(self) -> bool:
        """Whether it runs the quantised copy of the export (precision int8)."""
        return self.precision in self.runtime_spec.quantised

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

    torch.compile is a torch setting, so a runtime that does not compile (onnxruntime) runs once
    whatever `compile` lists; the precisions a runtime cannot run are left out for it, and so is
    a quantised precision (int8) for any preprocessing but the weights' own. A runtime
    left with no variant is an error.
    """
    precisions, runtimes = list(precisions), list(runtimes)
    seen: dict[str, Variant] = {}
    combinations = itertools.product(preprocessings, precisions, runtimes, compiles)
    for preprocess, precision, runtime, compile_ in combinations:
        spec = _runtime(runtime)
        if precision in PRECISIONS and not spec.runs(precision):
            continue
        if precision in spec.quantised and preprocess != "weights":
            continue  # calibrated through the weights' preprocessing only
        compiled = bool(compile_) and spec.compiles
        variant = Variant(precision, compiled, preprocess, runtime)
        seen.setdefault(variant.name, variant)
    for runtime in runtimes:
        if not any(v.runtime == runtime for v in seen.values()):
            runs = " or ".join(_runtime(runtime).precisions)
            raise UserError(
                f"config key 'runtime': {runtime} runs precision {runs} only, and precision lists "
                f"{', '.join(precisions)}. Add fp32 to precision, or drop {runtime} from runtime."
            )
    return list(seen.values())
