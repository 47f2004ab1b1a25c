"""Which models this workflow can run, and where the others fail: every timm architecture with
an ImageNet-1k pretrained tag and every torchvision classifier, untrained, on a few synthetic
images on the CPU.

    python bench/model_sweep.py --sample 60 --max-mparams 30     # docs/timm.md's figures
    python bench/model_sweep.py --pattern 'timm:lambda_*' --out lambda.csv

Each model goes through the steps an inference job and the export job take, with the package's
own functions (not the workflow): the planning check of its config name, the model source's
build, the FLOP count, the torch loader (channels_last where it applies), the preprocessing and
a forward pass, and the ONNX export. A failed FLOP count or export does not stop a run (the
job records the one and runs the torch variants without the other), so they are reported beside
the run; any other failure is where the model fails. Writes one row per model (--out) and one
per kind of failure with its count and examples (--kinds-out), and prints the latter.
"""

import argparse
import contextlib
import fnmatch
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from cifar_zeroshot.core.errors import UserError  # noqa: E402
from cifar_zeroshot.core.variants import Variant  # noqa: E402
from cifar_zeroshot.inference.model_source import classifier_source  # noqa: E402
from cifar_zeroshot.inference.request import JobKind  # noqa: E402
from cifar_zeroshot.models.complexity import try_count_complexity  # noqa: E402
from cifar_zeroshot.models.family_registry import TORCHVISION, family_of_config_name  # noqa: E402
from cifar_zeroshot.models.preprocess import DEFAULT_CROP, output_shape, preprocess_batch  # noqa: E402
from cifar_zeroshot.models.timm.catalog import timm_catalog  # noqa: E402
from cifar_zeroshot.models.torchvision.catalog import (  # noqa: E402
    check_model_name,
    classification_model_names,
)
from cifar_zeroshot.models.torchvision.classifiers import load_model  # noqa: E402
from cifar_zeroshot.runtimes.device_setup import channels_last_applies  # noqa: E402
from cifar_zeroshot.runtimes.forward_loading import forward_loader  # noqa: E402
from cifar_zeroshot.runtimes.onnx_export import export_module  # noqa: E402

IMAGES = 4
EXAMPLES = 3  # models named per kind of failure
# Where a model can fail: a failure of one of these stops its run.
FATAL_STAGES = ("planning", "build", "load", "forward")


@dataclass
class SweepRow:
    model: str  # the config name: 'timm:<architecture>.<tag>' or a torchvision name
    family: str
    mparams: float | None = None
    status: str = "ran"  # ran, refused (at planning), failed, skipped (over --max-mparams)
    stage: str = ""  # the stage that failed (fatal), empty where it ran
    kind: str = ""  # the failure's exception type
    error: str = ""  # its first line
    gflops: float | None = None
    flops_error: str = ""  # a failed count: the run goes on with its figures empty
    memory_format: str = ""
    export_error: str = ""  # a failed export: the torch variants run regardless
    seconds: float = 0.0


def candidates() -> list[str]:
    """Every timm architecture with an ImageNet-1k pretrained tag (its first such tag, in
    timm's order) and every torchvision classifier, as the config names them."""
    first: dict[str, str] = {}
    for name in timm_catalog().imagenet1k:
        first.setdefault(name.partition(".")[0], name)
    return [f"timm:{name}" for name in first.values()] + classification_model_names()


def select(names: list[str], pattern: str | None, sample: int | None) -> list[str]:
    """The names matching ``pattern`` (a glob), then ``sample`` of them evenly spaced."""
    if pattern:
        names = [name for name in names if fnmatch.fnmatch(name, pattern)]
    if sample is not None and sample < len(names):
        picks = np.linspace(0, len(names) - 1, sample).round().astype(int)
        names = [names[i] for i in sorted(set(picks))]
    return names


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else "no message"
    return text if len(text) <= 200 else text[:200] + " ..."


def _slug(name: str) -> str:
    """The planning check of a config name (the family's own), and its slug."""
    family = family_of_config_name(name)
    if family is TORCHVISION:
        return check_model_name(name)
    assert family.parse is not None
    return family.parse(name, "none").slug


def _stage(row: SweepRow, stage: str, step: Callable[[], object]) -> object:
    try:
        return step()
    except Exception as error:
        row.status = "refused" if isinstance(error, UserError) and stage == "planning" else "failed"
        row.stage, row.kind, row.error = stage, type(error).__name__, _first_line(error)
        traceback.print_exc(limit=-3, file=sys.stderr)
        raise _Stop from error


class _Stop(Exception):
    """A fatal stage failed: the row says which."""


def sweep_model(name: str, images: torch.Tensor, workdir: Path, export: bool) -> SweepRow:
    row = SweepRow(name, family_of_config_name(name).name)
    began = time.perf_counter()
    with contextlib.suppress(_Stop):
        _run_stages(row, images, workdir, export)
    row.seconds = round(time.perf_counter() - began, 2)
    return row


def _run_stages(row: SweepRow, images: torch.Tensor, workdir: Path, export: bool) -> None:
    slug = str(_stage(row, "planning", lambda: _slug(row.model)))
    source = _stage(
        row,
        "build",
        lambda: classifier_source(slug, "none", "weights", JobKind.LOGITS, load_model),
    )
    spec = source.spec  # type: ignore[attr-defined]
    shape = (3, *output_shape(spec, *images.shape[1:3]))
    complexity, reason = try_count_complexity(source.plain_build, shape, slug)  # type: ignore[attr-defined]
    row.flops_error = reason or ""
    if complexity is not None:
        row.mparams = round(complexity.parameters / 1e6, 3)
        row.gflops = round(complexity.gflops_per_image, 4)
    load = forward_loader(Variant("fp32"), None, 1, source.loader)  # type: ignore[attr-defined]
    cpu = torch.device("cpu")
    model = _stage(row, "load", lambda: load(slug, source.weights, cpu, torch.float32, True))  # type: ignore[attr-defined]
    assert isinstance(model, torch.nn.Module)
    channels_last = channels_last_applies(model)
    row.memory_format = "channels_last" if channels_last else "contiguous"

    def forward() -> None:
        with torch.inference_mode():
            batch = preprocess_batch(images, spec, torch.float32, channels_last)
            logits = model(batch)
        if tuple(logits.shape) != (len(images), 1000) or not torch.isfinite(logits).all():
            raise ValueError(f"logits of shape {tuple(logits.shape)}, or not finite")

    _stage(row, "forward", forward)
    if export:
        try:
            export_module(
                model.to(memory_format=torch.contiguous_format),
                spec.crop_size or DEFAULT_CROP,
                workdir / f"{slug}.onnx",
                model_name=slug,
                weights_label="none",
            )
        except Exception as error:
            row.export_error = f"{type(error).__name__}: {_first_line(error)}"


def kinds_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per kind of failure: where (stage), what (exception type), how many, examples.
    A failed FLOP count or export is its own kind (stage 'flops', 'export'), not fatal."""
    parts = []
    fatal = rows[rows["status"].isin(["failed", "refused"])]
    parts.append(fatal[["stage", "kind", "model", "error"]])
    for stage, column in (("flops", "flops_error"), ("export", "export_error")):
        bad = rows[rows[column] != ""]
        kinds = bad[column].str.split(":").str[0]
        parts.append(
            pd.DataFrame(
                {"stage": stage, "kind": kinds, "model": bad["model"], "error": bad[column]}
            )
        )
    failures = pd.concat(parts, ignore_index=True)
    if failures.empty:
        return pd.DataFrame(columns=["stage", "kind", "count", "examples", "first_error"])
    grouped = failures.groupby(["stage", "kind"], sort=False)
    return (
        grouped.agg(
            count=("model", "size"),
            examples=("model", lambda m: ", ".join(list(m)[:EXAMPLES])),
            first_error=("error", "first"),
        )
        .reset_index()
        .sort_values(["stage", "count"], ascending=[True, False])
    )


def totals(rows: pd.DataFrame) -> dict[str, int]:
    counts = rows["status"].value_counts()
    return {
        "tried": len(rows),
        "ran": int(counts.get("ran", 0)),
        "refused at planning": int(counts.get("refused", 0)),
        "failed": int(counts.get("failed", 0)),
        "skipped (over --max-mparams)": int(counts.get("skipped", 0)),
        "flops not counted": int((rows["flops_error"] != "").sum()),
        "export failed": int((rows["export_error"] != "").sum()),
    }


def _too_large(name: str, max_mparams: float) -> float | None:
    """The model's parameters in millions if over ``max_mparams`` (counted on the meta device)."""
    try:
        source = classifier_source(_slug(name), "none", "weights", JobKind.LOGITS, load_model)
        with torch.device("meta"):
            count = sum(p.numel() for p in source.plain_build().parameters()) / 1e6
    except Exception:  # the sweep itself reports it
        return None
    return count if count > max_mparams else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pattern", help="only config names matching this glob ('timm:*')")
    parser.add_argument("--sample", type=int, help="N names evenly spaced over the list")
    parser.add_argument("--max-mparams", type=float, help="skip models over M million parameters")
    parser.add_argument("--no-export", action="store_true", help="leave the ONNX export out")
    parser.add_argument("--out", type=Path, default=Path("model_sweep.csv"))
    parser.add_argument("--kinds-out", type=Path, help="default: <out>.kinds.csv")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    names = select(candidates(), args.pattern, args.sample)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (IMAGES, 32, 32, 3), dtype=torch.uint8, generator=generator)
    rows = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        for number, name in enumerate(names, 1):
            large = None if args.max_mparams is None else _too_large(name, args.max_mparams)
            if large is not None:
                row = SweepRow(name, family_of_config_name(name).name, round(large, 3), "skipped")
            else:
                row = sweep_model(name, images, Path(workdir), export=not args.no_export)
            rows.append(asdict(row))
            print(
                f"[{number}/{len(names)}] {name}: {row.status} {row.stage} {row.error}", flush=True
            )
    frame = pd.DataFrame(rows)
    kinds = kinds_table(frame)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    kinds_out = args.kinds_out or args.out.with_suffix(".kinds.csv")
    kinds.to_csv(kinds_out, index=False)
    print(f"\n{len(frame)} models in {time.perf_counter() - began:.0f} s")
    for label, count in totals(frame).items():
        print(f"  {label}: {count}")
    if not kinds.empty:
        print("\n" + kinds.to_string(index=False, max_colwidth=80))
    print(f"\nwrote {args.out} and {kinds_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
