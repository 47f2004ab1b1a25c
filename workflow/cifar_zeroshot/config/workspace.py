"""What the workflow writes, and refusals at planning time: problems with the machine or the
folders that would otherwise surface inside a job, after Snakemake had already deleted that job's
finished outputs.

Snakemake removes a job's old outputs when the job starts, so a job that is bound to fail (no
CUDA, nowhere to write) costs the results of an earlier run. These checks run before any job.
"""

import errno
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from cifar_zeroshot.config.planning import WorkflowPlan
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import NUM_IMAGENET_CLASSES
from cifar_zeroshot.core.paths import (
    blocks_table_path,
    clip_text_path,
    probe_fit_path,
    probe_scores_path,
    test_features_path,
    test_images_path,
    train_features_path,
    train_images_path,
    train_timing_path,
)
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.data.cifar10_c import block_path
from cifar_zeroshot.data.test_sets import test_set as registered_test_set
from cifar_zeroshot.runtimes.onnx_file import exported_inputs

# Per image and run: the float32 logits, plus Parquet's per-row overhead (measured: 4,035 bytes).
LOGITS_BYTES_PER_IMAGE = 4 * NUM_IMAGENET_CLASSES + 64


def kept_intermediate_files(plan: WorkflowPlan, dataset: str) -> list[str]:
    """The files (README's outputs table) a finished run keeps besides its tables and plots.

    Rule all asks for each by name. Snakemake rebuilds a missing file only for a job it plans,
    and finished metrics plan none: image sets, logits, timing or features deleted by hand, or
    by a --forcerun job killed half-way, would otherwise stay missing. Not the archives: once
    the image sets are built from them, they may be deleted (fetching them again would change
    nothing), nor the shifted sets' downloads for the same reason; their synthetic stand-ins
    are, since they are made here.
    """
    files = [test_images_path(dataset, name) for name in plan.test_sets.test_sets]
    files += [blocks_table_path(dataset, name) for name in plan.test_sets.blocked]
    files += [
        block_path(dataset, corruption, severity)
        for corruption, severity in plan.test_sets.blocks()
    ]
    if dataset == "synthetic":
        for name in plan.test_sets.test_sets:
            for stand_in in registered_test_set(name).stand_ins:
                files += [stand_in, f"{stand_in}.md5"]
    files += ["results/class_mapping.csv", "results/class_mapping_summary.csv"]
    for model, variant in plan.model_runs:
        files += exported_inputs(model, Variant.parse(variant)).values()  # onnxruntime only
    for test_set, model, variant in plan.runs:
        files += plan.run_files(test_set, model, variant)
    if plan.probe_runs or plan.calibrates_on_training:
        files.append(train_images_path(dataset))
    for model, variant in plan.probe_runs:
        files += [train_features_path(model, variant), train_timing_path(model, variant)]
        files.append(probe_fit_path(model, variant))
    for test_set, model, variant in plan.probe_score_runs:
        files += [
            test_features_path(test_set, model, variant),
            probe_scores_path(test_set, model, variant),
        ]
    files += [clip_text_path(model) for model in plan.clip_models]
    return list(dict.fromkeys(files))  # one export serves every onnxruntime variant of a model


def scored_images(plan: WorkflowPlan) -> int:
    """Images all runs together score, every test set counted: what their logits take."""
    return sum(plan.test_sets.run_images(test_set) for test_set, _, _ in plan.runs)


def check_output_folders(folders: Iterable[str | Path]) -> None:
    """Each folder the workflow writes into must be a writable folder, or not exist yet."""
    for folder in map(Path, folders):
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise UserError(
                f"{existing} is a file, but the workflow writes into a folder of that name "
                f"({folder}). Fix: move or delete {existing}, then rerun."
            )
        if os.statvfs(existing).f_flag & os.ST_RDONLY:
            raise UserError(
                f"{existing} is on a read-only file system, and the workflow writes into it "
                f"({folder}). Fix: run from a folder on a writable file system, or mount this one "
                "read-write."
            )
        if not os.access(existing, os.W_OK | os.X_OK):
            raise UserError(
                f"{existing} is not writable, and the workflow writes into it ({folder}). Fix: "
                f"make it writable (chmod u+w {existing}) or run from a folder you can write to."
            )


def check_free_space(folder: str | Path, needed_bytes: int) -> None:
    """Refuse to start when the folder's filesystem cannot hold the logits about to be written."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < needed_bytes:
        raise UserError(
            f"{os.strerror(errno.ENOSPC)} for the logits: they need about "
            f"{needed_bytes / 2**20:,.1f} MiB under {folder}, but only {free / 2**20:,.1f} MiB "
            "are free. Fix: free some space, or lower limit or the number of models and variants."
        )


def check_cuda_for_local_jobs(device: str, jobs_run_here: bool) -> None:
    """device 'cuda' needs CUDA where the jobs run. Checked only when that is this host: on a
    cluster the planning host may have no GPU while the compute nodes do."""
    if device != "cuda" or not jobs_run_here:
        return
    import torch  # only here: importing torch takes seconds

    if not torch.cuda.is_available():
        raise UserError(
            f"device 'cuda' was asked for, but torch {torch.__version__} sees no CUDA GPU on this "
            "host, where the jobs run. Nothing was run or deleted. Fix: run on a machine with an "
            "NVIDIA GPU and a CUDA build of torch, or set device to 'auto' or 'cpu'."
        )
