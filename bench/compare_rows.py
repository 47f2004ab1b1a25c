"""bench/compare.py's figures, typed, and the tables it prints from them.

Apart from the measuring so that the arithmetic the conclusions rest on (which round's run
stands for a variant, c / b paired per round, the best b and the fastest c) and the printed
tables can be checked on figures made up by hand, without running a model.
"""

import statistics
from dataclasses import dataclass
from enum import StrEnum

from cifar_zeroshot.records.run_facts import TimingSummary


class ForwardKind(StrEnum):
    """b's forward kinds: nchw and channels_last force the torch model's layout; compile and
    onnxruntime run in the layout their variants run in the job."""

    NCHW = "nchw"
    CHANNELS_LAST = "channels_last"
    COMPILE = "compile"
    ONNXRUNTIME = "onnxruntime"


@dataclass(frozen=True)
class ForwardRates:
    """b: one forward kind's images/s, once per round; the median is reported."""

    kind: ForwardKind
    rounds: tuple[float, ...]
    median: float


@dataclass(frozen=True)
class JobRun:
    """c: one run of this project's job; c is its summary's end_to_end_images_per_second, c_loop
    its images_per_second."""

    summary: TimingSummary
    wall_images_per_second: float  # c_wall: N / the call's wall time less model loading
    logits_bytes: int

    @property
    def end_to_end(self) -> float | None:
        """c; None for a run without timed batches."""
        return self.summary.end_to_end_images_per_second


@dataclass(frozen=True)
class VariantRuns:
    """c: one variant's job runs, once per round; the run with the median end-to-end rate
    stands for the variant, all its figures."""

    variant: str
    rounds: tuple[JobRun, ...]
    median: JobRun


@dataclass(frozen=True)
class ModelRow:
    """Every figure of one model, and the best b and fastest c that its summary line compares."""

    model: str
    images: int
    export_seconds: float | None  # None: nothing ran the exported model
    lab_report: dict[int, float]  # a(w): images/s by DataLoader workers w
    forwards: tuple[ForwardRates, ...]
    variants: tuple[VariantRuns, ...]
    best_forward: ForwardRates | None
    fastest_variant: VariantRuns | None
    # Each round's fastest c over its best b (None: a round without both), and their median.
    c_over_best_b_rounds: tuple[float | None, ...]
    c_over_best_b: float | None


def model_row(
    model: str,
    images: int,
    export_seconds: float | None,
    lab_report: dict[int, float],
    b_rounds: dict[ForwardKind, list[float]],
    c_rounds: dict[str, list[JobRun]],
) -> ModelRow:
    """The row from b's and c's figures, one per round in each list: c / b is paired per round,
    from figures measured minutes apart at most."""
    forwards = [ForwardRates(k, tuple(r), statistics.median_low(r)) for k, r in b_rounds.items()]
    variants = []
    for name, runs in c_rounds.items():
        median = sorted(runs, key=lambda run: run.end_to_end or 0)[(len(runs) - 1) // 2]
        variants.append(VariantRuns(name, tuple(runs), median))
    ratios = []
    for index in range(max(map(len, [*b_rounds.values(), *c_rounds.values()]), default=0)):
        best_b = max((rates[index] for rates in b_rounds.values()), default=0)
        best_c = max((runs[index].end_to_end or 0 for runs in c_rounds.values()), default=0)
        ratios.append(best_c / best_b if best_b and best_c else None)
    known = [ratio for ratio in ratios if ratio is not None]
    return ModelRow(
        model,
        images,
        export_seconds,
        lab_report,
        forwards=tuple(forwards),
        variants=tuple(variants),
        best_forward=max(forwards, key=lambda b: b.median, default=None),
        fastest_variant=max(variants, key=lambda c: c.median.end_to_end or 0, default=None),
        c_over_best_b_rounds=tuple(ratios),
        c_over_best_b=statistics.median_low(known) if known else None,
    )


def figure(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _spread(rates: list[float | None]) -> str:
    """'low-high' over the rounds (None: a run without timed batches); '-' for a single round."""
    known = [rate for rate in rates if rate is not None]
    return f"{figure(min(known))}-{figure(max(known))}" if len(known) > 1 else "-"


def rounds_text(rates: list[float | None]) -> str:
    """Rounds as 'median (low-high)', or the one figure."""
    known = [rate for rate in rates if rate is not None]
    if len(known) < 2:
        return figure(known[0] if known else None)
    return f"{figure(statistics.median_low(known))} ({_spread(known)})"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    return f"{numerator / denominator:.2f}x" if numerator and denominator else "-"


def _print_table(headers: list[str], table: list[list[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *table, strict=True)]
    for line in [headers, *table]:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))


def _detail_lines(row: ModelRow) -> list[tuple[str, list[str], list[float | None]]]:
    """Per b kind and c variant: its kind cell, its b, c_loop, c, c_wall cells, its rounds."""
    lines: list[tuple[str, list[str], list[float | None]]] = [
        (f"b {b.kind}", [figure(b.median), "", "", ""], list(b.rounds)) for b in row.forwards
    ]
    for c in row.variants:
        run = c.median
        cells = [run.summary.images_per_second, run.end_to_end, run.wall_images_per_second]
        rounds = [r.end_to_end for r in c.rounds]
        lines.append((f"c {c.variant}", ["", *map(figure, cells)], rounds))
    return lines


def print_report(rows: list[ModelRow], workers: list[int], title: str) -> None:
    """A line per model and b kind or c variant; then per model the best b against the fastest
    c, and that c against the lab report's pipeline with the most workers."""
    a_keys = [f"a({w})" for w in workers]
    headers = ["model", "images", "kind", *a_keys, "b", "c_loop", "c", "c_wall", "b or c range"]
    table = []
    for row in rows:
        a_cells = [figure(row.lab_report[w]) for w in workers]  # on the model's first line
        for kind, cells, rounds in _detail_lines(row):
            table.append([row.model, str(row.images), kind, *a_cells, *cells, _spread(rounds)])
            a_cells = [""] * len(workers)
    print(f"\n{title}")
    _print_table(headers, table)
    print(
        "\nbest bare forward (b), fastest variant end to end (c), and c / b (the median over the "
        "rounds of each round's fastest c over its best b):"
    )
    headers = ["model", "best b", "b", "fastest variant", "c", "c/b"]
    headers += [f"c/{key}" for key in a_keys[-1:]]  # against the most workers' a
    table = []
    for row in rows:
        best_b, fastest = row.best_forward, row.fastest_variant
        best_c = fastest.median.end_to_end if fastest else None
        line = [
            row.model,
            best_b.kind if best_b else "-",
            figure(best_b.median if best_b else None),
            fastest.variant if fastest else "-",
            figure(best_c),
            f"{row.c_over_best_b:.2f}" if row.c_over_best_b else "-",
        ]
        table.append(line + [_ratio(best_c, row.lab_report[w]) for w in workers[-1:]])
    _print_table(headers, table)
