"""Download an archive into ``<dest>.part``, verify it, and only then rename it onto ``dest``.

So ``dest`` either is the verified archive or does not exist, and every failure says which
file to download by hand and where to put it.
"""

import http.client
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.checksums import describe_mismatch

log = logging.getLogger(__name__)

_CHUNK = 1 << 20

Progress = Callable[[int, int | None], None]  # (bytes received, expected total or None)


def _by_hand_hint(url: str, dest: Path, expected_md5: str, expected_size: int | None) -> str:
    size = f"{expected_size:,} bytes, " if expected_size is not None else ""
    return (
        f"Without network, download {dest.name} ({size}MD5 {expected_md5}) by hand from {url} "
        f"and put it at {dest}, then rerun; or run the offline demo (synthetic images, no "
        "download): ./run.sh --configfile config/presets/demo.yaml."
    )


class _LogProgress:
    """Log a line per 10% so a long download is visibly alive in the job's log."""

    def __init__(self) -> None:
        self._last_decile = -1

    def __call__(self, received: int, total: int | None) -> None:
        if not total:
            return
        decile = min(received * 10 // total, 10)
        if decile > self._last_decile:
            self._last_decile = decile
            log.info("downloaded %s / %s bytes", f"{received:,}", f"{total:,}")


def _fetch(
    url: str, part: Path, expected_size: int | None, timeout_s: float, hint: str, report: Progress
) -> int:
    """Stream ``url`` into ``part``; return the bytes received."""
    received = 0
    with urllib.request.urlopen(url, timeout=timeout_s) as response, open(part, "wb") as out:
        while chunk := response.read(_CHUNK):
            received += len(chunk)
            # Stop early rather than fill the disk if the server sends something else.
            if expected_size is not None and received > expected_size:
                raise UserError(
                    f"Download from {url} is larger than the expected {expected_size:,} "
                    f"bytes; it is not the CIFAR-10 binary archive. {hint}"
                )
            out.write(chunk)
            report(received, expected_size)
    return received


def download_archive(
    url: str,
    dest: str | Path,
    expected_md5: str,
    expected_size: int | None,
    timeout_s: float = 60.0,
    progress: Progress | None = None,
) -> None:
    """Stream ``url`` into ``dest + ".part"``, verify it, then rename it onto ``dest``.

    Any failure removes the ``.part`` file and raises UserError saying which file to put where.
    ``progress`` is called after each chunk; by default a line per 10% goes to the log.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    hint = _by_hand_hint(url, dest, expected_md5, expected_size)
    report = progress if progress is not None else _LogProgress()
    try:
        received = _fetch(url, part, expected_size, timeout_s, hint, report)
        problem = describe_mismatch(part, expected_md5, expected_size)
        if problem is not None:
            raise UserError(
                f"Downloaded {url} but {problem} (interrupted or altered download). Rerun to "
                f"try again. {hint}"
            )
        os.replace(part, dest)
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise UserError(f"Could not download {url} ({reason}). {hint}") from error
    except ValueError as error:  # malformed URL
        raise UserError(f"Could not download {url} ({error}). {hint}") from error
    finally:
        # After a success the rename has already moved it; after any failure it is partial.
        part.unlink(missing_ok=True)
    log.info("downloaded and verified %s bytes from %s into %s", f"{received:,}", url, dest)
