"""CIFAR-10-C's selection: the configured (corruption, severity) blocks as one image set.

One inference job scores every selected block, so the model is loaded (and compiled) once per
test set rather than once per block. The blocks are concatenated in the plan's order, each cut
to its first ``limit`` images, into data/<dataset>/cifar10-c/test_set.npz; blocks.csv beside it
says which rows (image_index) hold which corruption and severity. Each block's image set must
say it is that corruption's member at that severity, and all must come from one archive.
"""

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.cifar10_c import corruption_member
from cifar_zeroshot.data.image_set import (
    ImageSet,
    load_image_set,
    read_image_blocks,
    read_image_origin,
    save_image_set,
)
from cifar_zeroshot.data.test_set import first_images

log = logging.getLogger(__name__)

BLOCK_COLUMNS = ("corruption", "severity", "first_image", "images")


def _fix(path: Path) -> str:
    return f"Fix: delete {path} and rerun snakemake to extract it again from the archive."


def write_selection(
    blocks: Sequence[tuple[str, int, str | Path]],
    limit: int | None,
    out_path: str | Path,
    table_path: str | Path,
) -> None:
    """Concatenate the (corruption, severity, image set path) blocks, each cut to ``limit``."""
    images, labels, rows, archive_md5 = [], [], [], None
    for corruption, severity, path in blocks:
        path = Path(path)
        origin = read_image_origin(path, ImageSet.TEST)
        if (origin.member, origin.severity) != (corruption_member(corruption), severity):
            raise UserError(
                f"Test set {path} holds {origin.member} at severity {origin.severity}, not "
                f"{corruption_member(corruption)} at severity {severity}. {_fix(path)}"
            )
        if archive_md5 not in (None, origin.archive_md5):
            raise UserError(
                f"Test set {path} was extracted from an archive with MD5 {origin.archive_md5}, "
                f"the other blocks from one with MD5 {archive_md5}. {_fix(path)}"
            )
        archive_md5 = origin.archive_md5
        block_images, block_labels = first_images(*load_image_set(path, ImageSet.TEST), limit, path)
        rows.append((corruption, severity, sum(map(len, labels)), len(block_labels)))
        images.append(block_images)
        labels.append(block_labels)
    if archive_md5 is None:
        raise ValueError("a CIFAR-10-C selection needs at least one block")
    save_image_set(
        out_path,
        np.concatenate(images),
        np.concatenate(labels),
        archive_md5,
        ImageSet.TEST,
        blocks=[(corruption, severity, count) for corruption, severity, _, count in rows],
    )
    table = pd.DataFrame(rows, columns=list(BLOCK_COLUMNS))
    with atomic_path(table_path) as temp:
        table.to_csv(temp, index=False)
    log.info("selected %d CIFAR-10-C blocks, %d images", len(rows), sum(map(len, labels)))


def read_selection_table(path: str | Path, images_path: str | Path) -> pd.DataFrame:
    """blocks.csv: one row per block, with the rows of the selection it holds; believed only
    when it says what the selection's image set at ``images_path`` records of its blocks."""
    path, images_path = Path(path), Path(images_path)
    fix = f"Fix: delete {path} and {images_path} and rerun snakemake to select the blocks again."
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise UserError(f"{path} is not a readable CSV ({error}). {fix}") from error
    if tuple(table.columns) != BLOCK_COLUMNS:
        raise UserError(
            f"{path} has columns {list(table.columns)}, not {list(BLOCK_COLUMNS)}. {fix}"
        )
    recorded = read_image_blocks(images_path)
    if recorded is None:
        raise UserError(
            f"{images_path} is not a CIFAR-10-C selection: it records no blocks (another set's "
            f"image file put in its place, or one written by an older version). {fix}"
        )
    starts = np.cumsum([0] + [images for _, _, images in recorded])[:-1].tolist()
    expected = [(c, s, int(f), n) for (c, s, n), f in zip(recorded, starts, strict=True)]
    held = [
        (str(c), int(s), int(f), int(n))
        for c, s, f, n in table[list(BLOCK_COLUMNS)].itertuples(index=False)
    ]
    if held != expected:
        first = next(
            (i for i, (a, b) in enumerate(zip(held, expected, strict=False)) if a != b),
            min(len(held), len(expected)),
        )
        said = held[first] if first < len(held) else "no row"
        truth = expected[first] if first < len(expected) else "no block"
        raise UserError(
            f"{path} does not describe the blocks of {images_path}: its row {first + 1} says "
            f"{said}, the image set holds {truth} there (corruption, severity, first_image, "
            f"images). It was edited or comes from another selection, and would label blocks "
            f"wrongly. {fix}"
        )
    return table


def block_of_rows(table: pd.DataFrame, image_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(corruption, severity) of each image_index of the selection."""
    ends = (table["first_image"] + table["images"]).to_numpy()
    block = np.searchsorted(ends, image_index, side="right")
    return table["corruption"].to_numpy()[block], table["severity"].to_numpy()[block]
