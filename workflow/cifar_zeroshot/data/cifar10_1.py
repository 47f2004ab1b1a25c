"""CIFAR-10.1 v6 (Recht et al. 2018): a new sample of CIFAR-10's classes, as two .npy files.

Both files are checked by size and MD5 before use (the synthetic stand-in's against their
``.md5`` sidecars), their headers must be uint8 [N, 32, 32, 3] images and N integer labels, and
the pair is kept as data/<dataset>/cifar10.1/test_set.npz in the image-set format, its origin the
images file's MD5 and name.
"""

from pathlib import Path

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.checksums import verify_archive
from cifar_zeroshot.data.image_set import ImageSet, save_image_set
from cifar_zeroshot.data.npy_arrays import read_npy_images, read_npy_labels

# The current v6 files of modestyachts/CIFAR-10.1 (pins from before 2020 name an older labels
# file of 8,080 bytes).
_RAW = "https://raw.githubusercontent.com/modestyachts/CIFAR-10.1/master/datasets"
DATA_NAME = "cifar10.1_v6_data.npy"
LABELS_NAME = "cifar10.1_v6_labels.npy"
DATA_URL = f"{_RAW}/{DATA_NAME}"
LABELS_URL = f"{_RAW}/{LABELS_NAME}"
DATA_BYTES = 6_144_128
LABELS_BYTES = 8_128
DATA_MD5 = "4fcae82cb1326aec9ed1dc1fc62345b8"
LABELS_MD5 = "09a97fb7c430502fcbd69d95093a3f85"
IMAGES = 2_000
# Where the workflow expects the real files (relative to the working directory).
DATA_PATH = f"data/{DATA_NAME}"
LABELS_PATH = f"data/{LABELS_NAME}"
# The synthetic dataset's generated stand-ins, each with an MD5 sidecar (FILE.md5).
SYNTHETIC_DATA_PATH = f"data/synthetic/{DATA_NAME}"
SYNTHETIC_LABELS_PATH = f"data/synthetic/{LABELS_NAME}"


def file_fix(path: Path, generated: bool) -> str:
    """How to replace a bad file: a generated stand-in is made again, the real one fetched."""
    if generated:
        return (
            f"Fix: delete {path} and rerun snakemake: it is generated, so the workflow makes it "
            "again."
        )
    return (
        f"Fix: delete {path} and rerun to download it again, or place the genuine {path.name} "
        "there."
    )


def prepare_cifar10_1(
    data_path: str | Path,
    labels_path: str | Path,
    expected: dict[str, tuple[str, int | None]],
    out_path: str | Path,
    md5_sources: dict[str, Path] | None = None,
) -> None:
    """Verify the pair, read it, and save it as an image set.

    ``expected``: {"data": (md5, size), "labels": (md5, size)}; ``md5_sources``: the sidecars
    those MD5s were read from (the synthetic stand-in's), named if a file disagrees with them.
    """
    paths = {"data": Path(data_path), "labels": Path(labels_path)}
    sources = md5_sources or {}
    for part, path in paths.items():
        md5, size = expected[part]
        verify_archive(path, md5, size, sources.get(part))
    generated = bool(sources)
    with open(paths["data"], "rb") as stream:
        images = read_npy_images(stream, str(paths["data"]), file_fix(paths["data"], generated))
    with open(paths["labels"], "rb") as stream:
        fix = file_fix(paths["labels"], generated)
        labels = read_npy_labels(stream, str(paths["labels"]), fix)
    if len(labels) != len(images):
        raise UserError(
            f"{paths['labels']} holds {len(labels):,} labels for the {len(images):,} images of "
            f"{paths['data']}: the two files are not a pair. {file_fix(paths['labels'], generated)}"
        )
    save_image_set(
        out_path,
        images,
        labels,
        expected["data"][0],
        ImageSet.TEST,
        member=paths["data"].name,
    )
