"""Is this archive the expected file? Its MD5 and size, and the ``<archive>.md5`` sidecar.

The real archive's MD5 is a fixed constant; the synthetic one's is written beside it in a
sidecar when it is generated, and read back from there.
"""

import logging
from pathlib import Path

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.file_digests import file_md5

log = logging.getLogger(__name__)


def describe_mismatch(path: Path, expected_md5: str, expected_size: int | None) -> str | None:
    """Describe how the file differs from what is expected, or None if it matches."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"it has {size:,} bytes but {expected_size:,} were expected"
    md5 = file_md5(path)
    if md5 != expected_md5.lower():
        return f"its MD5 is {md5} but {expected_md5.lower()} was expected"
    return None


def archive_not_found(path: Path) -> UserError:
    """The error for an archive that is not there (raised by whoever looks for it first)."""
    return UserError(
        f"Archive {path} not found. Fix: rerun the workflow to create/download it, or place "
        f"the right file at {path}."
    )


def verify_archive(
    path: str | Path,
    expected_md5: str,
    expected_size: int | None = None,
    md5_source: str | Path | None = None,
) -> None:
    """Raise UserError unless ``path`` exists with the expected size and MD5.

    ``md5_source`` is the sidecar the expected MD5 was read from, if any: a mismatch may then be
    the sidecar's fault as much as the archive's, and both are named.
    """
    path = Path(path)
    if not path.is_file():
        raise archive_not_found(path)
    problem = describe_mismatch(path, expected_md5, expected_size)
    if problem is not None and md5_source is not None:
        # They are written together: either may be the damaged one, and deleting the archive
        # alone would leave the wrong sidecar in place (it is not rewritten while it exists).
        raise UserError(
            f"Archive {path} does not match its checksum file {md5_source}: {problem}. One of "
            f"the two was edited or replaced. Fix: delete both {path} and {md5_source} and "
            "rerun to regenerate them."
        )
    if problem is not None:
        raise UserError(
            f"Archive {path} is not the expected file: {problem} (incomplete download or a "
            f"different file). Fix: delete {path} and rerun to download it again, or place the "
            f"right file at {path}."
        )
    log.info(
        "verified %s: %s bytes, MD5 %s", path, f"{path.stat().st_size:,}", expected_md5.lower()
    )


def md5_sidecar_path(archive: str | Path) -> Path:
    archive = Path(archive)
    return archive.with_name(archive.name + ".md5")


def write_md5_sidecar(archive: str | Path) -> str:
    """Write ``<archive>.md5`` (one line: the archive's hex digest); return the digest."""
    md5 = file_md5(archive)
    with atomic_path(md5_sidecar_path(archive)) as temp:
        temp.write_bytes(f"{md5}\n".encode("ascii"))
    return md5


def read_md5_sidecar(path: str | Path) -> str:
    """Read the hex digest from a ``<archive>.md5`` sidecar (first token of its first line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(
            f"Cannot read checksum file {path} ({error}). Fix: delete it and the archive next to "
            "it and rerun the workflow to regenerate both."
        ) from error
    token = text.split()[0].lower() if text else ""
    if len(token) != 32 or any(c not in "0123456789abcdef" for c in token):
        raise UserError(
            f"Checksum file {path} does not hold an MD5 hex digest (found {text[:40]!r}). Fix: "
            "delete it and the archive next to it and rerun the workflow to regenerate both."
        )
    return token
