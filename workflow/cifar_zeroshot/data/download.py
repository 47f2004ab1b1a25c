"""Download a file (an archive, a published table) with pooch: into a temporary file beside
``dest``, verified, then renamed.

pooch (a well-kept library for exactly this) streams the file into a temporary file in the
destination folder, checks its hash, retries a failed or mismatched download, and moves it onto
``dest`` only when the hash matches. So ``dest`` either is the verified file or does not
exist, an interrupted download restarts from the beginning on the next run, and every failure
here says which file to download by hand and where to put it.
"""

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pooch
import requests
from tqdm import tqdm

from cifar_zeroshot.core.errors import UserError

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]  # (bytes received, expected total or None)

# pooch's HTTP and FTP downloaders; its DOI and SFTP ones need more than a URL to be safe here.
_SCHEMES = ("http", "https", "ftp")
# Streaming chunk: small enough for a smooth progress bar, large enough to be cheap.
_CHUNK = 1 << 16


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


class _DownloadProgress:
    """pooch's progress-bar protocol (``total``, ``update``, ``reset``, ``close``).

    It reports to ``report`` (the job's log by default), draws a bar on a terminal, and stops a
    download that grows past the expected size rather than fill the disk.
    """

    def __init__(self, url: str, expected_size: int | None, report: Progress, hint: str) -> None:
        self._url, self._expected, self._report, self._hint = url, expected_size, report, hint
        self.received = 0
        self.total = 0  # set by pooch from Content-Length (0: not sent)
        # tqdm draws only on a terminal (disable=None), so logs and tests stay clean.
        self._bar = tqdm(total=expected_size, unit="B", unit_scale=True, disable=None)

    def update(self, chunk: int) -> None:
        # pooch counts whole chunks; the last one may be shorter, so cap at the announced total.
        self.received += chunk
        if self.total:
            self.received = min(self.received, self.total)
        if self._expected is not None and self.received > self._expected:
            raise UserError(
                f"Download from {self._url} is larger than the expected {self._expected:,} "
                f"bytes; it is not the file this workflow reads. {self._hint}"
            )
        self._bar.update(chunk)
        self._report(self.received, self._expected or self.total or None)

    def reset(self) -> None:
        self.received = 0
        self._bar.reset()

    def close(self) -> None:
        self._bar.close()


def download_archive(
    url: str,
    dest: str | Path,
    expected_md5: str,
    expected_size: int | None,
    timeout_s: float = 60.0,
    progress: Progress | None = None,
    retries: int = 2,
) -> None:
    """Download an archive ``url`` onto ``dest``, verified by MD5 (and size, when given).

    download_file with the hint an archive's failure gives: download it by hand, or run the
    offline demo.
    """
    download_file(
        url,
        dest,
        f"md5:{expected_md5.lower()}",
        expected_size,
        _by_hand_hint(url, Path(dest), expected_md5, expected_size),
        timeout_s=timeout_s,
        progress=progress,
        retries=retries,
    )


def download_file(
    url: str,
    dest: str | Path,
    known_hash: str,
    expected_size: int | None,
    by_hand_hint: str,
    *,
    timeout_s: float = 60.0,
    progress: Progress | None = None,
    retries: int = 2,
) -> None:
    """Download ``url`` onto ``dest`` through pooch, verified by ``known_hash`` (pooch's
    'md5:<hex>' or 'sha256:<hex>') and by size, when given.

    A failed or mismatched download is retried ``retries`` times, then raises UserError ending
    with ``by_hand_hint`` (which file to put where); nothing is left at ``dest`` or beside it.
    ``progress`` is called with (bytes received, expected total) after each chunk; by default a
    line per 10% goes to the log.
    """
    dest = Path(dest)
    scheme = urlparse(url).scheme
    if scheme not in _SCHEMES:
        raise UserError(
            f"Could not download {url} (not an {', '.join(_SCHEMES)} URL). Fix: set a URL "
            f"that starts with http://, https:// or ftp://. {by_hand_hint}"
        )
    meter = _DownloadProgress(url, expected_size, progress or _LogProgress(), by_hand_hint)
    fetcher = pooch.create(
        path=dest.parent,
        base_url="",
        registry={dest.name: known_hash.lower()},
        urls={dest.name: url},
        retry_if_failed=retries,
    )
    downloader = pooch.FTPDownloader if scheme == "ftp" else pooch.HTTPDownloader
    try:
        fetcher.fetch(
            dest.name,
            downloader=downloader(progressbar=meter, chunk_size=_CHUNK, timeout=timeout_s),
        )
    except ValueError as error:  # pooch: the hash did not match, after every retry
        raise UserError(
            f"Downloaded {url} but it is not the expected file ({error}) (interrupted or altered "
            f"download). Rerun to try again. {by_hand_hint}"
        ) from error
    except (requests.RequestException, OSError) as error:
        raise UserError(f"Could not download {url} ({error}). {by_hand_hint}") from error
    finally:
        meter.close()
    log.info(
        "downloaded and verified %s bytes from %s into %s", f"{dest.stat().st_size:,}", url, dest
    )
