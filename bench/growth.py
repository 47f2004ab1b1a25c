"""How the steps after inference grow with the number of runs: planning, the metrics job (its
paired tests timed on their own), the plots and the report, each in a fresh process, with its
wall time and peak RSS.

    python bench/growth.py                        # 10, 50 and 200 runs of 1,000 images each
    python bench/growth.py --sizes 10 50 200 1000 --images-per-class 100
    python bench/growth.py --full --sizes 20      # full-size runs (10,000 images), scoring only
    python bench/growth.py --estimate-only --full # what a mode would take, nothing run
    python bench/growth.py --cifar10-c            # 3 models on full-size CIFAR-10-C, scoring only

Growth mode (the default): for each size N it copies the workflow into a fresh folder, builds the
synthetic test set and the class mapping with the workflow's own rules, and writes N synthetic
runs of CIFAR-10 (N timm models, untrained, fp32: the names are timm's real ones so that the
plan accepts them; no model is loaded). Their logits are random, with the true class's ImageNet
class lifted for a share of the images that differs per run, so that accuracies differ and the
paired tests have discordant images to count. Every file is written by the package's own writers
(records.logits) with the facts the metrics job checks, so the steps read them as they read an
inference job's. Then, each in a new process:

- planning: `snakemake --dry-run` over the prepared folder (the N inference jobs are found done);
- metrics: the metrics job (analysis.metrics_job.compute_metrics and
  report.metrics_job.write_metrics_outputs, called as the rule's script calls them); its paired
  tests (analysis.paired_tests.paired_tests) are timed inside it, and the peak RSS they add;
- plots: `snakemake` for the plots, paired_plot and reliability_plot rules' files;
- report: `snakemake` for the report_tables and run_info rules' files.

The plots and report rows include Snakemake's own start and DAG, which the planning row shows.
Between sizes it prints each step's time and memory ratio beside the ratio of runs and of pairs:
no step should grow faster than the pairs do.

Full-size mode (--full): runs of 10,000 images x 1,000 logits (the real CIFAR-10 test set's
size), 20, 200 and 1,000 of them, scored by the metrics job alone (its peak RSS is what the
targets are about). Each run's logits take 40 MB as float32; the logits are drawn from a few
values (multiples of 0.5) so that a lossless codec can store them in less, and the script prints
the size one file takes on disk with the codec the package uses (records/parquet_rows.py). The
metrics job's memory does not depend on the codec: it decodes each file to float32 [N, 1000]
whatever it was stored as. Before it starts, it prints the disk a size needs and refuses a size
that does not fit in the free space.

CIFAR-10-C mode (--cifar10-c): three models (--sizes N: N), each with a run of CIFAR-10 and of
a synthetic CIFAR-10-C selection of the benchmark's 15 corruptions x 5 severities x 10,000
images (750,000 images a run), coarse logits, scored by the metrics job alone; its peak RSS is
printed against the 3 GB target. The selection (its image set and blocks.csv) is written by
this script a block at a time, not by the workflow's data rules, which would extract every
block from the 2.3 GB archive first.

Peak RSS is the child's own (os.wait4's rusage, which covers the child and the processes it
waited for, e.g. Snakemake's jobs), read by a small process that starts the child, so neither
this script's memory nor one step's peak carries over into another step's figure. It
prints what it measured and asserts nothing.
"""

import argparse
import dataclasses
import hashlib
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from cifar_zeroshot.config.schema import check_against_schema, load_config_file  # noqa: E402
from cifar_zeroshot.core.atomic import atomic_path  # noqa: E402
from cifar_zeroshot.core.choices import (  # noqa: E402
    BENCHMARK_CORRUPTIONS,
    CIFAR10_C,
    REFERENCE_TEST_SET,
    SEVERITIES,
    SYNTHETIC_CORRUPTIONS,
)
from cifar_zeroshot.core.paths import blocks_table_path, test_images_path, timing_path  # noqa: E402
from cifar_zeroshot.data.archive import CHANNELS, CIFAR10_ARCHIVE_NAME, IMAGE_SIZE  # noqa: E402
from cifar_zeroshot.data.checksums import md5_sidecar_path, read_md5_sidecar  # noqa: E402
from cifar_zeroshot.data.shifted_selection import BLOCK_COLUMNS  # noqa: E402
from cifar_zeroshot.data.test_set import chunked_images_digest  # noqa: E402
from cifar_zeroshot.data.test_set_checks import (  # noqa: E402
    ConfiguredTestSet,
    load_configured_test_set,
)
from cifar_zeroshot.mapping.tables import read_mapping_csv  # noqa: E402
from cifar_zeroshot.models.timm.catalog import timm_catalog  # noqa: E402
from cifar_zeroshot.records.logits import LogitsWriter, write_timing  # noqa: E402
from cifar_zeroshot.records.run_facts import RunFacts, TimingSummary  # noqa: E402

COPIED = ("Snakefile", "workflow", "config", "profiles", "resources")
SCHEMA = Path("workflow/schemas/config.schema.yaml")
CONFIG_FILE = "growth-config.yaml"
GROWTH_SIZES = (10, 50, 200)
FULL_SIZES = (20, 200, 1000)
GROWTH_IMAGES_PER_CLASS = 100  # 1,000 images a run: 4 MB of logits
FULL_IMAGES_PER_CLASS = 1000  # 10,000 images a run: CIFAR-10's test set, 40 MB of logits
BATCH = 1000  # rows per write, as inference streams them
LOGITS_BYTES_PER_IMAGE = 1000 * 4
STEPS = ("planning", "metrics", "paired", "plots", "paired_plot", "reliability_plot", "report")
FULL_STEPS = ("metrics", "paired")
# CIFAR-10-C mode: three models, the benchmark's 15 corruptions at 5 severities, each block of
# CIFAR-10's test set's size (750,000 images a run), scored by the metrics job alone.
CIFAR10_C_MODELS = 3
CIFAR10_C_CORRUPTIONS = 15
CIFAR10_C_TARGET_BYTES = 3 * 10**9  # the metrics job's peak RSS on three such runs
IMAGE_BYTES = IMAGE_SIZE * IMAGE_SIZE * CHANNELS
# Seconds to write and to score a run's 10,000 images (a block of a CIFAR-10-C run), measured by
# this mode on two shared cores (78 s and 115 s for 3 models x 76 such blocks): the estimate.
CIFAR10_C_BLOCK_COSTS = {"write": 0.34, "metrics": 0.5}
# Seconds per run and per pair of each step, fitted to this script's measurements on two shared
# cores (1,000 images a run at 200 and 1,000 runs; full size: 10,000 images at 200 and 1,000
# runs; docs/performance.md): only for the estimate printed before starting. Pairs: the three
# class-mapping methods' results of every run, each pair once (the default configuration).
METHODS_PER_RUN = 3
STEP_COSTS: dict[str, tuple[float, float]] = {
    "write": (0.04, 0.0),
    "planning": (0.01, 0.0),
    "metrics": (0.2, 1e-5),
    "paired": (0.0, 0.0),  # inside the metrics job
    "plots": (0.6, 0.0),
    "paired_plot": (0.02, 0.0),
    "reliability_plot": (0.02, 0.0),
    "report": (0.015, 0.0),
}
FULL_STEP_COSTS: dict[str, tuple[float, float]] = {
    "write": (0.12, 0.0),
    "metrics": (0.6, 0.0),
    "paired": (0.0, 0.0),
}
MIN_COMPARABLE_SECONDS = 0.1
# What the synthetic CIFAR-10-C selection records as its archive's MD5: none was read (the
# metrics job holds a selection against the blocks it records, not against an archive).
SYNTHETIC_SELECTION_MD5 = hashlib.md5(b"bench/growth.py synthetic CIFAR-10-C").hexdigest()
FIXED_SECONDS = 20.0  # per size: the workflow copied, the test set and the mapping built


# Each figure rule is a step of its own: the plots rule draws a confusion matrix per run, the
# paired plot a cell per pair, the reliability diagram a panel per model and method.
SNAKEMAKE_TARGETS: dict[str, tuple[str, ...]] = {
    "plots": ("results/plots/speed.png",),
    "paired_plot": ("results/plots/paired_differences.png",),
    "reliability_plot": ("results/plots/reliability.png",),
    "report": ("results/tables/summary.html", "results/run_info.yaml"),
}
DEFAULT_STEP_LIMIT_SECONDS = 1200
DEFAULT_MEMORY_CAP_GIB = 12


@dataclass(frozen=True)
class StepResult:
    """One step at one size: what it took."""

    step: str
    runs: int
    seconds: float | None  # None: it failed
    peak_rss_bytes: int | None
    pairs: int | None = None  # rows of paired_tests.csv (the metrics and paired steps)
    failed: str | None = None  # why it has no figures


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_bytes: int
    returncode: int


# Runs one command and reports its wall time and peak RSS. It is a small process of its own
# because a child's ru_maxrss starts at its parent's RSS when it forked (Linux counts the
# copied memory before exec), so children of this script, which holds numpy and pandas, would
# all report at least its size. With a cap it watches the RSS of the command and its
# descendants and stops them all once their sum passes it, so that a step which would take the
# shared machine's memory fails instead (an address-space limit would stop Snakemake itself,
# which reserves far more than it uses).
MEASURER = """
import json, os, signal, subprocess, sys, time
report, cap, limit, command = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
def family(root):
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    parents[int(name)] = int(stat.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += [child for child, parent in parents.items() if parent == pid]
    return found
def rss(pid):
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
started = time.perf_counter()
child = subprocess.Popen(command)
stopped, reaped, late = 0, False, False
while (cap or limit) and not reaped:
    done, status, usage = os.wait4(child.pid, os.WNOHANG)
    reaped = done == child.pid
    if reaped:
        break
    if stopped:  # killed: reaped on a later round
        time.sleep(0.2)
        continue
    pids = family(child.pid)
    total = sum(map(rss, pids))
    late = bool(limit) and time.perf_counter() - started > limit
    if (cap and total > cap) or late:
        stopped = total
        for pid in reversed(pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    time.sleep(0.2)
if not reaped:
    _, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as out:
    json.dump({"seconds": seconds, "maxrss_kib": usage.ru_maxrss, "stopped_at": stopped,
               "late": late, "exit": os.waitstatus_to_exitcode(status)}, out)
"""


@dataclass(frozen=True)
class Limits:
    """What one step may take before it is stopped (0: no limit)."""

    memory_cap: int = 0  # bytes of RSS, the step's processes together
    seconds: float = 0


class StepStopped(RuntimeError):
    """A step's processes passed the memory cap or the time limit and were stopped."""


def run_measured(
    command: Sequence[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    memory_cap: int = 0,
    time_limit: float = 0,
) -> ChildRun:
    """Run ``command`` in a fresh process (started by a small one that waits for it); its wall
    time and the peak RSS of it and of every process it waited for (os.wait4's ru_maxrss, in
    KiB on Linux). ``memory_cap``: the RSS it and its descendants may take together, in bytes
    (0: none); past it, or past ``time_limit`` seconds (0: none), they are stopped and
    StepStopped raised."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "measured.json"
        finished = subprocess.run(
            [
                sys.executable,
                "-S",
                "-c",
                MEASURER,
                str(report),
                str(memory_cap),
                str(time_limit),
                *command,
            ],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        measured = json.loads(report.read_text()) if report.exists() else None
    if measured is not None and measured["late"]:
        raise StepStopped(
            f"stopped after {measured['seconds']:.0f} s, past the limit of {time_limit:.0f} s "
            f"(at {measured['stopped_at'] / 2**30:.1f} GiB of RSS)"
        )
    if measured is not None and measured["stopped_at"]:
        raise StepStopped(
            f"stopped at {measured['stopped_at'] / 2**30:.1f} GiB of RSS after "
            f"{measured['seconds']:.0f} s, over the cap of {memory_cap / 2**30:.1f} GiB"
        )
    if measured is None or measured["exit"] != 0:
        tail = finished.stderr.decode(errors="replace")[-4000:]
        code = finished.returncode if measured is None else measured["exit"]
        raise RuntimeError(f"{' '.join(command)} failed ({code}) in {cwd}:\n{tail}")
    return ChildRun(measured["seconds"], int(measured["maxrss_kib"]) * 1024, measured["exit"])


# --- the synthetic workspace -----------------------------------------------------------------


def timm_model_names(count: int) -> list[str]:
    """``count`` of timm's pretrained ImageNet-1k names, as the config writes them."""
    catalog = timm_catalog()
    names = sorted(set(catalog.imagenet1k) - set(catalog.unsupported_crop))
    if count > len(names):
        raise SystemExit(
            f"--sizes asks for {count} runs, but timm {catalog.timm} lists {len(names)} "
            "ImageNet-1k models to name them after. Fix: ask for at most that many."
        )
    return [f"timm:{name}" for name in names[:count]]


def growth_config(runs: int, images_per_class: int) -> dict[str, Any]:
    """The configuration of N runs: N untrained timm models, fp32, CIFAR-10 alone, synthetic."""
    return {
        "dataset": "synthetic",
        "synthetic_images_per_class": images_per_class,
        "models": timm_model_names(runs),
        "weights": "none",
        "precision": "fp32",
        "compile": False,
        "runtime": "torch",
        "device": "cpu",
        "threads": 1,
        "linear_probe": False,
    }


def snakemake_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(workdir / "workflow")
    env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def snakemake_command(*args: str) -> list[str]:
    # Files written here, not by Snakemake, have no metadata: only their times decide reruns.
    return [
        sys.executable,
        "-m",
        "snakemake",
        *args,
        "--cores",
        "1",
        "--rerun-triggers",
        "mtime",
        "--workflow-profile",
        "none",
        "--configfile",
        CONFIG_FILE,
    ]


def copy_workflow(workdir: Path, config: dict[str, Any]) -> None:
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, workdir / name)
    (workdir / CONFIG_FILE).write_text(yaml.safe_dump(config))


@contextmanager
def workspace(prefix: str, root: Path, keep: bool) -> Iterator[Path]:
    """A fresh folder under ``root`` for one measured size: kept (and named) with ``keep``,
    otherwise deleted however the measuring ends."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        yield workdir
    finally:
        if keep:
            print(f"  kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def full_config(workdir: Path) -> dict[str, Any]:
    """The workspace's configuration with its defaults, as common.smk completes it."""
    from snakemake.utils import validate

    with working_directory(workdir):
        config = yaml.safe_load(Path(CONFIG_FILE).read_text())
        for key, value in load_config_file("config/config.yaml").items():
            config.setdefault(key, value)
        check_against_schema(config, SCHEMA)
        validate(config, str(SCHEMA))
    return config


def workspace_plan(workdir: Path) -> Any:
    from cifar_zeroshot.config.planning import plan_workflow

    config = full_config(workdir)
    with working_directory(workdir):
        return config, plan_workflow(config)


def synthetic_logits(
    rng: np.random.Generator,
    labels: np.ndarray,
    groups: Sequence[np.ndarray],
    share_right: float,
    coarse: bool,
) -> np.ndarray:
    """Random logits with the true class's ImageNet class lifted for about ``share_right`` of the
    images. ``coarse``: every value a multiple of 0.5 in [-2, 5.5] (few distinct values)."""
    logits = rng.standard_normal((len(labels), 1000), dtype=np.float32)
    lifted = rng.random(len(labels)) < share_right
    for number in np.flatnonzero(lifted):
        members = groups[int(labels[number])]
        logits[number, members[rng.integers(len(members))]] += 5.0
    if coarse:
        logits = np.clip(np.round(logits * 2) / 2, -2.0, 5.5).astype(np.float32)
    return logits


def run_facts(requested: dict[str, Any], image_count: int, sha256: str, seed: int) -> RunFacts:
    """The facts an untrained CPU fp32 run records, the checked ones as the metrics expect."""
    return RunFacts(
        model=requested["model"],
        weights=requested["weights"],
        variant=requested["variant"],
        precision="fp32",
        compile=False,
        preprocess="weights",
        preprocess_spec={"resize": 224, "crop": 224},
        device="cpu",
        device_name="none: synthetic run written by bench/growth.py",
        gpu_index=None,
        torch_version="none",
        torchvision_version="none",
        batch_size=BATCH,
        batch_size_requested=BATCH,
        image_count=image_count,
        dataset=requested["dataset"],
        threads=1,
        limit=requested["limit"],
        test_set_sha256=sha256,
        parameters=1_000_000 * (seed + 1),
        gflops_per_image=0.1 * (seed + 1),
        weights_sha256=requested["weights_sha256"],
    )


def timing_summary(image_count: int, seed: int) -> TimingSummary:
    rate = 100.0 * (1 + seed % 17)
    return TimingSummary(
        images_per_second=rate,
        end_to_end_images_per_second=rate * 0.9,
        ms_per_image=1000.0 / rate,
        latency_p50_ms=10.0,
        latency_p90_ms=12.0,
        latency_p99_ms=15.0,
        timed_images=image_count,
        timed_batches=max(1, image_count // BATCH),
        warmup_batches=0,
        startup_seconds=2.0,
        model_load_seconds=1.0,
        compile_seconds=None,
        batch_size=BATCH,
        batch_size_requested=BATCH,
        oom_retries=0,
        torch_peak_allocated_bytes=None,
        torch_peak_reserved_bytes=None,
        nvml_process_bytes=None,
        host_peak_rss_bytes=(500 + seed) * 2**20,
        gpu_energy_joules=None,
    )


def timing_rows(image_count: int) -> pd.DataFrame:
    batches = max(1, math.ceil(image_count / BATCH))
    images = [min(BATCH, image_count - n * BATCH) for n in range(batches)]
    return pd.DataFrame(
        {
            "batch_index": range(batches),
            "warmup": [False] * batches,
            "images": images,
            "padded_images": [BATCH] * batches,
            "input_seconds": [0.01] * batches,
            "forward_seconds": [0.1] * batches,
            "output_seconds": [0.01] * batches,
            "total_seconds": [0.12] * batches,
        }
    )


def write_synthetic_run(
    logits_path: Path,
    timing_file: Path,
    facts: RunFacts,
    labels: np.ndarray,
    groups: Sequence[np.ndarray],
    seed: int,
    coarse: bool,
) -> None:
    """One run's logits and timing files, as an inference job writes them."""
    rng = np.random.default_rng(seed)
    share_right = 0.3 + 0.6 * rng.random()
    with LogitsWriter(logits_path, facts) as writer:
        for start in range(0, len(labels), BATCH):
            index = np.arange(start, min(start + BATCH, len(labels)))
            logits = synthetic_logits(rng, labels[index], groups, share_right, coarse)
            writer.write_batch(index, labels[index], logits)
    write_timing(timing_file, timing_rows(len(labels)), facts, timing_summary(len(labels), seed))


def requested_runs(plan: Any, config: dict[str, Any]) -> list[dict[str, Any]]:
    """Per run of the plan, what the metrics rule's params say its job was asked to run."""
    from cifar_zeroshot.analysis.verification import requested_run

    return [
        requested_run(
            model,
            plan.model_weights[model],
            variant,
            config["dataset"],
            plan.test_sets.run_limit(test_set),
        ).to_params()
        for test_set, model, variant in plan.runs
    ]


def prepare_workspace(
    workdir: Path,
    runs: int,
    images_per_class: int,
    coarse: bool,
    blocks: Sequence[tuple[str, int]] = (),
) -> int:
    """The workflow, its test set and class mapping (built by its rules) and N synthetic runs;
    returns the bytes the run files take. ``blocks``: CIFAR-10-C's (corruption, severity)
    blocks, each of the CIFAR-10 set's size, scored as well (write_blocked_selection writes
    their image set); every model then has a run of each set."""
    config = growth_config(runs, images_per_class)
    if blocks:
        config |= blocked_settings(blocks)
    copy_workflow(workdir, config)
    targets = ("data/synthetic/test_set.npz", "results/class_mapping.csv")
    run_measured(snakemake_command(*targets), workdir, snakemake_env(workdir))
    config, plan = workspace_plan(workdir)
    configured = {
        REFERENCE_TEST_SET: load_configured_test_set(
            workdir / "data/synthetic/test_set.npz",
            "synthetic",
            10 * images_per_class,
            read_md5_sidecar(workdir / synthetic_md5_path()),
            None,
        )
    }
    if blocks:
        configured[CIFAR10_C] = write_blocked_selection(
            workdir / test_images_path("synthetic", CIFAR10_C),
            workdir / blocks_table_path("synthetic", CIFAR10_C),
            blocks,
            10 * images_per_class,
        )
    groups, _ = read_mapping_csv(workdir / "results/class_mapping.csv")
    size = 0
    for seed, (run, requested) in enumerate(
        zip(plan.runs, requested_runs(plan, config), strict=True)
    ):
        test_set = configured[run[0]]
        logits_path = workdir / plan.run_output_path(*run)
        facts = run_facts(requested, test_set.image_count, test_set.sha256, seed)
        write_synthetic_run(
            logits_path,
            workdir / timing_path(*run),
            facts,
            test_set.labels,
            groups,
            seed,
            coarse,
        )
        size += logits_path.stat().st_size
    return size


# --- a synthetic CIFAR-10-C selection, written without the data rules ----------------------
# The workflow's rules would extract each block from a 2.3 GB archive first; the metrics job
# reads only the selection (its image set and blocks.csv), so that is what is written here.


def blocked_settings(blocks: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """The configuration keys that ask for CIFAR-10-C beside CIFAR-10: a run of it per model,
    and its blocks table among the metrics rule's inputs. Which blocks are scored is what the
    selection's blocks.csv says (the metrics job reads them from there, not from the
    configuration); the configuration names the synthetic stand-in's corruptions, the only
    ones the plan accepts with dataset 'synthetic'."""
    return {
        "test_sets": [REFERENCE_TEST_SET, CIFAR10_C],
        "corruptions": list(SYNTHETIC_CORRUPTIONS),
        "severities": sorted({severity for _, severity in blocks}),
    }


def selection_blocks(corruptions: int, severities: int) -> list[tuple[str, int]]:
    """The first ``corruptions`` of the benchmark's, each at the first ``severities``, in the
    order the plan selects them (corruption by corruption)."""
    return [
        (corruption, severity)
        for corruption in BENCHMARK_CORRUPTIONS[:corruptions]
        for severity in SEVERITIES[:severities]
    ]


def _write_npy(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def write_blocked_selection(
    images_path: Path,
    table_path: Path,
    blocks: Sequence[tuple[str, int]],
    images_per_block: int,
) -> Any:
    """A CIFAR-10-C selection of random images in the format save_image_set writes (an
    uncompressed .npz, the blocks recorded in it) and its blocks.csv, written a block at a
    time (750,000 images are 2.3 GB); returns the ConfiguredTestSet read_test_set gives for it,
    its digest computed from the same bytes as they are written."""
    count = len(blocks) * images_per_block
    shape = (count, IMAGE_SIZE, IMAGE_SIZE, CHANNELS)
    labels = np.tile(np.arange(images_per_block) % 10, len(blocks)).astype(np.uint8)
    rng = np.random.default_rng(len(blocks))
    images_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(images_path) as temp, zipfile.ZipFile(temp, "w", allowZip64=True) as out:
        with out.open("images.npy", "w", force_zip64=True) as member:
            header = {"descr": "|u1", "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_2_0(member, header)

            def block_bytes() -> Iterator[bytes]:
                for _ in blocks:
                    data = rng.integers(
                        0, 256, (images_per_block, *shape[1:]), dtype=np.uint8
                    ).tobytes()
                    member.write(data)
                    yield data

            sha256 = chunked_images_digest(np.dtype(np.uint8), shape, block_bytes(), labels)
        _write_npy(out, "labels", labels)
        _write_npy(out, "archive_md5", np.array(SYNTHETIC_SELECTION_MD5))
        _write_npy(out, "archive_images", np.array(count, dtype=np.int64))
        _write_npy(out, "block_corruption", np.array([c for c, _ in blocks], dtype=str))
        _write_npy(out, "block_severity", np.array([s for _, s in blocks], dtype=np.int64))
        _write_npy(out, "block_images", np.full(len(blocks), images_per_block, dtype=np.int64))
    table = pd.DataFrame(
        [
            (corruption, severity, number * images_per_block, images_per_block)
            for number, (corruption, severity) in enumerate(blocks)
        ],
        columns=list(BLOCK_COLUMNS),
    )
    with atomic_path(table_path) as temp:
        table.to_csv(temp, index=False)
    return ConfiguredTestSet(images_path, labels, sha256)


def synthetic_md5_path() -> Path:
    return md5_sidecar_path(f"data/synthetic/{CIFAR10_ARCHIVE_NAME}")


# --- the adapter: the metrics rule's call, its input and params ------------------------------


class RuleFiles(SimpleNamespace):
    """A stand-in for a Snakemake job's input, output or params: names as attributes, and the
    ``get`` the metrics job uses."""

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)


def metrics_rule_files(workdir: Path) -> tuple[RuleFiles, RuleFiles, RuleFiles]:
    """The metrics rule's input, params and output for this workspace (workflow/rules/metrics.smk),
    for CIFAR-10 and CIFAR-10-C's selection, without the probe, CLIP or few-shot files. The one
    place that restates the rule: update it with the rule."""
    config, plan = workspace_plan(workdir)
    dataset = config["dataset"]
    names = list(plan.test_sets.test_sets)
    inputs = RuleFiles(
        test_set=f"data/{dataset}/test_set.npz",
        archive_md5=str(synthetic_md5_path()),
        outputs=[plan.run_output_path(*run) for run in plan.runs],
        timing=[timing_path(*run) for run in plan.runs],
        images=[test_images_path(dataset, name) for name in names],
        blocks=[blocks_table_path(dataset, name) for name in plan.test_sets.blocked],
        mapping="results/class_mapping.csv",
        mapping_yaml=config["class_mapping"],
        probes=[],
        clip_texts=[],
        few_shot=[],
    )
    params = RuleFiles(
        pooling=config["pooling"],
        calibration_bins=config["calibration_bins"],
        paired_significance=config["paired_significance"],
        dataset=dataset,
        dataset_size=10 * int(config["synthetic_images_per_class"]),
        archive_md5=None,
        test_sets=names,
        limits=[plan.test_sets.run_limit(name) for name in names],
        blocked=list(plan.test_sets.blocked),
        runs=[list(run) for run in plan.runs],
        requested=requested_runs(plan, config),
        probe_runs=[],
        probe_request=plan.probe_request.to_params(),
        clip_models=[],
        clip_prompts=config["clip_prompts"],
        clip_prompts_sha256="",
        test_set_titles=plan.test_sets.titles(dataset),
        weights_titles=plan.weights_titles,
        published_top1=plan.published_top1,
    )
    output = RuleFiles(
        metrics="results/metrics.csv",
        per_class="results/per_class.csv",
        confusion="results/confusion.csv",
        top_confusions="results/top_confusions.csv",
        summary="results/summary.md",
        paired_tests="results/paired_tests.csv",
        leaderboard="results/leaderboard.csv",
        leaderboard_page="results/tables/leaderboard.html",
        reliability="results/reliability.csv",
        balancing="results/balancing.csv",
        per_class_poolings="results/per_class_poolings.csv",
        statistics="results/tables/statistics.html",
        failed_runs="results/failed_runs.csv",
        failed_targets="results/failed_runs.txt",
    )
    return inputs, params, output


def run_metrics_job(workdir: Path) -> dict[str, Any]:
    """The metrics job as its script runs it, with the paired tests timed inside it: their
    seconds, and the process's peak RSS just before and just after them."""
    import resource

    from cifar_zeroshot.analysis import metrics_job
    from cifar_zeroshot.report.metrics_job import write_metrics_outputs

    inputs, params, output = metrics_rule_files(workdir)
    timed: dict[str, Any] = {}
    paired_tests = metrics_job.paired_tests

    def timed_paired_tests(*args: Any, **kwargs: Any) -> Any:
        timed["rss_before"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        started = time.perf_counter()
        result = paired_tests(*args, **kwargs)
        timed["seconds"] = time.perf_counter() - started
        timed["rss_after"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return result

    metrics_job.paired_tests = timed_paired_tests  # looked up at call time by compute_metrics
    with working_directory(workdir):
        results = metrics_job.compute_metrics(inputs, params)
        write_metrics_outputs(results, output)
    timed["pairs"] = len(results.paired.table)
    return timed


# --- the steps -------------------------------------------------------------------------------


def measure_planning(workdir: Path, runs: int, limits: Limits) -> list[StepResult]:
    command = snakemake_command("--dry-run", "--quiet")
    child = run_measured(
        command, workdir, snakemake_env(workdir), limits.memory_cap, limits.seconds
    )
    return [StepResult("planning", runs, child.seconds, child.peak_rss_bytes)]


def measure_metrics(workdir: Path, runs: int, limits: Limits) -> list[StepResult]:
    """The metrics job in a fresh process; the paired tests' row from inside it (their seconds,
    and the peak RSS of the process when they ended)."""
    report = workdir / "growth-metrics.json"
    command = [sys.executable, __file__, "--metrics-child", str(workdir)]
    child = run_measured(
        [*command, "--child-report", str(report)],
        workdir,
        snakemake_env(workdir),
        limits.memory_cap,
        limits.seconds,
    )
    inside = json.loads(report.read_text())
    return [
        StepResult("metrics", runs, child.seconds, child.peak_rss_bytes, inside["pairs"]),
        StepResult("paired", runs, inside["seconds"], inside["rss_after"], inside["pairs"]),
    ]


def measure_snakemake_step(step: str, workdir: Path, runs: int, limits: Limits) -> list[StepResult]:
    command = snakemake_command(*SNAKEMAKE_TARGETS[step])
    child = run_measured(
        command, workdir, snakemake_env(workdir), limits.memory_cap, limits.seconds
    )
    return [StepResult(step, runs, child.seconds, child.peak_rss_bytes)]


def measure_workspace(
    workdir: Path, runs: int, steps: Sequence[str], limits: Limits
) -> list[StepResult]:
    """The steps asked for, in the workflow's order, on a prepared workspace; printed as they
    end. The metrics job runs when asked for, or when a later step needs its files and they
    are missing. A step stopped at the memory cap or time limit gets a row that says so, and
    the steps after it still run."""
    wanted = set(steps)
    metrics_needed = not (workdir / "results" / "metrics.csv").exists() and bool(
        wanted & set(SNAKEMAKE_TARGETS)
    )
    measures: list[tuple[set[str], Any]] = [
        ({"planning"}, measure_planning),
        (
            {"metrics", "paired"} | (set(SNAKEMAKE_TARGETS) if metrics_needed else set()),
            measure_metrics,
        ),
    ]
    measures += [({step}, partial(measure_snakemake_step, step)) for step in SNAKEMAKE_TARGETS]
    results: list[StepResult] = []
    for names, measure in measures:
        if not names & wanted:
            continue
        try:
            rows = measure(workdir, runs, limits)
        except StepStopped as error:
            rows = [StepResult(min(names & wanted), runs, None, None, failed=str(error))]
        for row in rows:
            if row.step in wanted or row.step == "metrics":
                print(f"  {row_text(row)}", flush=True)
                results.append(row)
    return results


def measure_size(
    runs: int,
    images_per_class: int,
    steps: Sequence[str],
    root: Path,
    coarse: bool,
    keep: bool,
    limits: Limits,
) -> list[StepResult]:
    with workspace(f"growth-{runs}-", root, keep) as workdir:
        started = time.perf_counter()
        size = prepare_workspace(workdir, runs, images_per_class, coarse)
        print(
            f"  {runs} runs written in {time.perf_counter() - started:.1f} s "
            f"({size / 2**20:.1f} MiB of logits files, {size / runs / 2**20:.2f} MiB each)",
            flush=True,
        )
        return measure_workspace(workdir, runs, steps, limits)


def workspace_bytes(workdir: Path) -> int:
    """What the files under ``workdir`` take on disk."""
    return sum(path.stat().st_blocks * 512 for path in workdir.rglob("*") if path.is_file())


def measure_cifar10_c(
    models: int,
    images_per_class: int,
    blocks: Sequence[tuple[str, int]],
    root: Path,
    keep: bool,
    limits: Limits,
) -> list[StepResult]:
    """``models`` runs of CIFAR-10 and of a CIFAR-10-C selection of ``blocks`` (coarse logits),
    written and then scored by the metrics job in a fresh process; prints what writing took."""
    with workspace(f"growth-cifar10-c-{models}-", root, keep) as workdir:
        started = time.perf_counter()
        logits = prepare_workspace(workdir, models, images_per_class, True, blocks)
        seconds = time.perf_counter() - started
        print(
            f"  written in {seconds:.1f} s: {workspace_bytes(workdir) / 2**30:.2f} GiB on disk "
            f"({logits / 2**30:.2f} GiB of logits files, CIFAR-10's runs among them)",
            flush=True,
        )
        return measure_workspace(workdir, models, FULL_STEPS, limits)


def cifar10_c_verdict(results: Sequence[StepResult], models: int, blocks: int, images: int) -> str:
    """The metrics job's peak RSS against CIFAR10_C_TARGET_BYTES, in a sentence."""
    metrics = next((r for r in results if r.step == "metrics"), None)
    scope = f"{models} CIFAR-10-C runs of {blocks} blocks x {images:,} images"
    if metrics is None or metrics.peak_rss_bytes is None:
        failed = "not measured" if metrics is None else metrics.failed
        return f"metrics job on {scope}: {failed}"
    peak = metrics.peak_rss_bytes
    verdict = "below" if peak < CIFAR10_C_TARGET_BYTES else "ABOVE"
    return (
        f"metrics job on {scope}: {metrics.seconds:.1f} s, peak RSS {peak / 10**9:.2f} GB "
        f"({mib(peak)}), {verdict} the {CIFAR10_C_TARGET_BYTES / 10**9:.0f} GB target "
        f"({peak / CIFAR10_C_TARGET_BYTES:.0%} of it)"
    )


def run_cifar10_c(args: argparse.Namespace, limits: Limits) -> None:
    """The --cifar10-c mode: its plan, the disk check, the measurement and the verdict."""
    wrong = sorted(set(args.steps or ()) - set(FULL_STEPS))
    if wrong:
        raise SystemExit(
            f"--cifar10-c measures the metrics job alone, not {', '.join(wrong)}: its "
            "selection is written by this script, not by the workflow's rules. Fix: leave out "
            "--steps or pass --steps metrics paired."
        )
    models = args.sizes[0] if args.sizes else CIFAR10_C_MODELS
    images_per_class = args.images_per_class or FULL_IMAGES_PER_CLASS
    blocks = selection_blocks(args.corruptions, args.severities)
    images = 10 * images_per_class
    root = args.workdir or Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    logits_bytes = run_file_bytes(images_per_class, True, root) * (len(blocks) + 1) * models
    images_bytes = len(blocks) * images * IMAGE_BYTES
    block_runs = models * (len(blocks) + 1)  # CIFAR-10's run is one block's size
    minutes = (FIXED_SECONDS + sum(CIFAR10_C_BLOCK_COSTS.values()) * block_runs) / 60
    print(
        f"bench/growth.py, CIFAR-10-C mode: {models} models (untrained timm models by name, "
        f"fp32; no model is loaded), each with a run of CIFAR-10 ({images:,} synthetic images) "
        f"and of a synthetic CIFAR-10-C selection of {args.corruptions} corruptions x "
        f"{args.severities} severities x {images:,} images = {len(blocks) * images:,} images, "
        "x 1000 coarse logits (multiples of 0.5)\n"
        f"  disk: {images_bytes / 2**30:.2f} GiB of images and about "
        f"{logits_bytes / 2**30:.2f} GiB of logits files under {root} "
        f"({free_bytes(root) / 2**30:.1f} GiB free); estimate: about {minutes:.0f} min on two "
        "cores",
        flush=True,
    )
    if args.estimate_only:
        return
    if images_bytes + logits_bytes > 0.8 * free_bytes(root):
        raise SystemExit(
            f"The workspace would take more than 80 % of the {free_bytes(root) / 2**30:.1f} GiB "
            f"free under {root}. Fix: pass --workdir on a disk with room, or fewer "
            "--corruptions or --severities."
        )
    results = measure_cifar10_c(models, images_per_class, blocks, root, args.keep, limits)
    print(cifar10_c_verdict(results, models, len(blocks), images), flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "cifar10_c_blocks": [list(block) for block in blocks],
                    "images_per_block": images,
                    "steps": [dataclasses.asdict(r) for r in results],
                },
                indent=2,
            )
        )


# --- what it prints --------------------------------------------------------------------------


def mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f} MiB"


def row_text(result: StepResult) -> str:
    if result.seconds is None:
        return f"{result.step:<16} {result.runs:>5} runs: {result.failed}"
    pairs = "" if result.pairs is None else f", {result.pairs:,} pairs"
    return (
        f"{result.step:<16} {result.runs:>5} runs: {result.seconds:8.2f} s, "
        f"peak RSS {mib(result.peak_rss_bytes)}{pairs}"
    )


def pairs_at(results: Sequence[StepResult], runs: int) -> int | None:
    return next((r.pairs for r in results if r.runs == runs and r.pairs is not None), None)


def growth_rows(results: Sequence[StepResult]) -> list[dict[str, Any]]:
    """Per step and pair of consecutive sizes: the time and peak RSS ratios beside the ratios of
    runs and of pairs, and whether the time grew faster than the pairs did."""
    rows = []
    sizes = sorted({r.runs for r in results})
    by_key = {(r.step, r.runs): r for r in results}
    for small, large in itertools.pairwise(sizes):
        pairs_small, pairs_large = pairs_at(results, small), pairs_at(results, large)
        pairs_ratio = pairs_large / pairs_small if pairs_small and pairs_large else None
        for step in dict.fromkeys(r.step for r in results):
            first, second = by_key.get((step, small)), by_key.get((step, large))
            if first is None or second is None or first.seconds is None or second.seconds is None:
                continue
            time_ratio = second.seconds / first.seconds if first.seconds > 0 else math.inf
            rss_ratio = (
                second.peak_rss_bytes / first.peak_rss_bytes
                if first.peak_rss_bytes and second.peak_rss_bytes
                else None
            )
            rows.append(
                {
                    "step": step,
                    "from": small,
                    "to": large,
                    "runs_ratio": large / small,
                    "pairs_ratio": pairs_ratio,
                    "time_ratio": time_ratio,
                    "rss_ratio": rss_ratio,
                    # A step under MIN_COMPARABLE_SECONDS at the smaller size is mostly fixed
                    # costs and timer noise: its ratio is printed but not held against pairs.
                    "too_short": first.seconds < MIN_COMPARABLE_SECONDS,
                    "faster_than_pairs": pairs_ratio is not None
                    and time_ratio > pairs_ratio
                    and first.seconds >= MIN_COMPARABLE_SECONDS,
                }
            )
    return rows


def ratio_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def print_growth(rows: Sequence[dict[str, Any]]) -> None:
    print("\nGrowth between sizes (time and peak RSS ratios against runs and pairs):")
    print(f"  {'step':<16} {'sizes':>11} {'runs':>7} {'pairs':>9} {'time':>9} {'peak RSS':>9}  ")
    for row in rows:
        verdict = "grows FASTER than the pairs" if row["faster_than_pairs"] else ""
        if row["too_short"]:
            verdict = (
                f"under {MIN_COMPARABLE_SECONDS} s at {row['from']} runs: too short to compare"
            )
        sizes = f"{row['from']}->{row['to']}"
        print(
            f"  {row['step']:<16} {sizes:>11} {ratio_text(row['runs_ratio']):>7} "
            f"{ratio_text(row['pairs_ratio']):>9} {ratio_text(row['time_ratio']):>9} "
            f"{ratio_text(row['rss_ratio']):>9}  {verdict}"
        )
    faster = sorted({row["step"] for row in rows if row["faster_than_pairs"]})
    print(
        "  every step grew no faster than the pairs"
        if not faster
        else f"  grew faster than the pairs: {', '.join(faster)}"
    )


def pairs_of(runs: int) -> int:
    return math.comb(METHODS_PER_RUN * runs, 2)


def estimate_seconds(
    sizes: Sequence[int], steps: Sequence[str], full: bool, step_limit: float
) -> float:
    """The wall time the sizes and steps should take (each step at most ``step_limit``)."""
    costs = FULL_STEP_COSTS if full else STEP_COSTS
    total = 0.0
    for runs in sizes:
        total += FIXED_SECONDS
        for step in ("write", *steps):
            per_run, per_pair = costs.get(step, STEP_COSTS.get(step, (0.0, 0.0)))
            seconds = per_run * runs + per_pair * pairs_of(runs)
            total += min(seconds, step_limit) if step_limit and step != "write" else seconds
    return total


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def run_file_bytes(images_per_class: int, coarse: bool, root: Path) -> int:
    """What one run's logits file takes on disk, written here with the package's writer and
    codec (records/parquet_rows.py) from the logits this mode writes."""
    labels = np.arange(10 * images_per_class, dtype=np.int64) % 10
    groups = [np.array([10 * k]) for k in range(10)]
    sample = {
        "model": "sample",
        "weights": "none",
        "variant": "fp32",
        "dataset": "synthetic",
        "limit": None,
        "weights_sha256": None,
    }
    facts = run_facts(sample, len(labels), "0" * 64, 0)
    with tempfile.TemporaryDirectory(dir=root) as folder:
        logits = Path(folder) / "logits.parquet"
        timing = Path(folder) / "timing.parquet"
        write_synthetic_run(logits, timing, facts, labels, groups, 0, coarse)
        return logits.stat().st_size


def disk_needed(runs: int, bytes_per_run: int) -> int:
    return runs * bytes_per_run


def print_plan(
    sizes: Sequence[int],
    images_per_class: int,
    full: bool,
    root: Path,
    bytes_per_run: int,
    steps: Sequence[str],
    step_limit: float,
) -> None:
    mode = "full size" if full else "growth"
    print(
        f"bench/growth.py, {mode} mode: {', '.join(map(str, sizes))} runs of "
        f"{10 * images_per_class:,} synthetic images x 1000 logits each (CIFAR-10 only, "
        "untrained timm models by name, fp32; no model is loaded)"
    )
    if full:
        print(
            "  logits are multiples of 0.5 in [-2, 5.5], so that a lossless codec can compress "
            "them; the metrics job decodes every file to float32 [N, 1000], so its memory does "
            "not depend on how they are stored"
        )
    raw = 10 * images_per_class * LOGITS_BYTES_PER_IMAGE
    print(
        f"  one run's logits file takes {bytes_per_run / 2**20:.1f} MiB with the package's codec "
        f"({bytes_per_run / raw:.0%} of the float32 values' {raw / 2**20:.1f} MiB)"
    )
    for runs in sizes:
        print(
            f"  {runs} runs: {disk_needed(runs, bytes_per_run) / 2**30:.1f} GiB of "
            f"logits files under {root} ({free_bytes(root) / 2**30:.1f} GiB free)"
        )
    minutes = estimate_seconds(sizes, steps, full, step_limit) / 60
    print(
        f"  steps: {', '.join(steps)}; estimate: about {minutes:.0f} min on two cores "
        "(fitted to this script's measurements; each step at most the step limit)",
        flush=True,
    )


def refuse_what_does_not_fit(sizes: Sequence[int], bytes_per_run: int, root: Path) -> None:
    free = free_bytes(root)
    too_big = [runs for runs in sizes if disk_needed(runs, bytes_per_run) > 0.8 * free]
    if too_big:
        raise SystemExit(
            f"{', '.join(map(str, too_big))} runs would need more than 80 % of the "
            f"{free / 2**30:.1f} GiB free under {root}. Fix: pass --workdir on a disk with room, "
            "fewer --sizes, or fewer --images-per-class."
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="runs per size (growth: 10 50 200)")
    parser.add_argument(
        "--full",
        action="store_true",
        help="full-size runs of 10,000 images (sizes 20 200 1000), scoring only",
    )
    parser.add_argument(
        "--images-per-class",
        type=int,
        help=f"synthetic images per class and run (growth: {GROWTH_IMAGES_PER_CLASS}, "
        f"full: {FULL_IMAGES_PER_CLASS})",
    )
    parser.add_argument("--steps", nargs="+", choices=STEPS, help="the steps to measure")
    parser.add_argument("--workdir", type=Path, help="where the workspaces go (default: /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep each size's workspace")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("--estimate-only", action="store_true", help="print the plan and stop")
    parser.add_argument(
        "--memory-cap-gib",
        type=float,
        default=DEFAULT_MEMORY_CAP_GIB,
        help="RSS a step's processes may take together (GiB; 0: none); a step past it is "
        f"stopped and reported as failed (default {DEFAULT_MEMORY_CAP_GIB})",
    )
    parser.add_argument(
        "--step-limit-seconds",
        type=float,
        default=DEFAULT_STEP_LIMIT_SECONDS,
        help="wall time a step may take (0: none); a step past it is stopped and reported as "
        f"failed (default {DEFAULT_STEP_LIMIT_SECONDS})",
    )
    parser.add_argument(
        "--measure",
        type=Path,
        metavar="WORKSPACE",
        help="measure the steps again on a workspace kept by --keep (its files as they are)",
    )
    parser.add_argument(
        "--cifar10-c",
        action="store_true",
        help=f"{CIFAR10_C_MODELS} models (or --sizes N) with full-size synthetic CIFAR-10-C runs "
        f"({CIFAR10_C_CORRUPTIONS} corruptions x 5 severities x 10,000 images), metrics only",
    )
    parser.add_argument(
        "--corruptions",
        type=int,
        default=CIFAR10_C_CORRUPTIONS,
        choices=range(1, len(BENCHMARK_CORRUPTIONS) + 1),
        metavar="N",
        help=f"--cifar10-c: the benchmark's first N corruptions (default {CIFAR10_C_CORRUPTIONS})",
    )
    parser.add_argument(
        "--severities",
        type=int,
        default=len(SEVERITIES),
        choices=range(1, len(SEVERITIES) + 1),
        metavar="N",
        help="--cifar10-c: severities 1 to N of each (default 5)",
    )
    parser.add_argument("--metrics-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-report", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.metrics_child is not None:
        args.child_report.write_text(json.dumps(run_metrics_job(args.metrics_child)))
        return
    sizes = args.sizes or (FULL_SIZES if args.full else GROWTH_SIZES)
    images_per_class = args.images_per_class or (
        FULL_IMAGES_PER_CLASS if args.full else GROWTH_IMAGES_PER_CLASS
    )
    steps = args.steps or (FULL_STEPS if args.full else STEPS)
    limits = Limits(int(args.memory_cap_gib * 2**30), args.step_limit_seconds)
    if args.cifar10_c:
        run_cifar10_c(args, limits)
        return
    if args.measure is not None:
        _, plan = workspace_plan(args.measure)
        print(f"{len(plan.runs)} runs in {args.measure}:", flush=True)
        measure_workspace(args.measure, len(plan.runs), steps, limits)
        return
    root = args.workdir or Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    bytes_per_run = run_file_bytes(images_per_class, args.full, root)
    print_plan(
        sizes, images_per_class, args.full, root, bytes_per_run, steps, args.step_limit_seconds
    )
    if args.estimate_only:
        return
    refuse_what_does_not_fit(sizes, bytes_per_run, root)
    results: list[StepResult] = []
    for runs in sizes:
        print(f"{runs} runs:", flush=True)
        results += measure_size(runs, images_per_class, steps, root, args.full, args.keep, limits)
    rows = growth_rows(results)
    if rows:
        print_growth(rows)
    for result in results:
        if result.failed:
            print(f"  no ratio for {result.step} at {result.runs} runs: {result.failed}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "images_per_run": 10 * images_per_class,
                    "full": args.full,
                    "steps": [dataclasses.asdict(r) for r in results],
                    "growth": rows,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
