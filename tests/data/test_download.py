"""Tests for cifar_zeroshot.data.download (pooch underneath), over loopback HTTP.

What is checked: a verified file lands at its path and nothing beside it; every failure
(refused connection, wrong checksum, oversized or cut download, server errors, a non-HTTP URL)
leaves nothing behind and says which file to put where; a flaky server is retried.
"""

import logging
import socket

import pytest
from loopback_http import ServerBehaviour, serve_folder

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import CIFAR10_ARCHIVE_BYTES, CIFAR10_MD5
from cifar_zeroshot.data.download import download_archive


def _url(base: str, synthetic) -> str:
    return f"{base}/{synthetic[0].name}"


def test_download_from_loopback_http(tmp_path, synthetic, caplog):
    path, md5 = synthetic
    dest = tmp_path / "data" / "cifar-10-binary.tar.gz"
    size = path.stat().st_size
    seen: list[tuple[int, int | None]] = []
    with serve_folder(path.parent) as base:
        download_archive(
            _url(base, synthetic), dest, md5, size, progress=lambda *got: seen.append(got)
        )
    assert dest.read_bytes() == path.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]
    assert seen[-1] == (size, size)
    # The default progress and the result both go to the job's log.
    dest.unlink()
    with serve_folder(path.parent) as base, caplog.at_level(logging.INFO, "cifar_zeroshot"):
        download_archive(_url(base, synthetic), dest, md5, size)
    assert f"downloaded {size:,} / {size:,} bytes" in caplog.text
    assert f"downloaded and verified {size:,} bytes" in caplog.text and str(dest) in caplog.text


def _refused_url() -> str:
    # A port that was free a moment ago on loopback: connecting is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-binary.tar.gz"


def test_download_refused_says_which_file_to_put_where(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = _refused_url()
    with pytest.raises(UserError) as caught:
        download_archive(
            url, "data/cifar-10-binary.tar.gz", CIFAR10_MD5, CIFAR10_ARCHIVE_BYTES, retries=0
        )
    message = str(caught.value)
    assert message.startswith(f"Could not download {url} (")
    assert "put it at data/cifar-10-binary.tar.gz" in message
    assert "170,052,171 bytes" in message and CIFAR10_MD5 in message
    assert message.endswith(
        "or run the offline demo (synthetic images, no download): "
        "./run.sh --configfile config/presets/demo.yaml."
    )
    assert list((tmp_path / "data").iterdir()) == []  # no temporary file, no archive


def test_download_with_wrong_checksum_leaves_nothing(tmp_path, synthetic):
    path, _ = synthetic
    dest = tmp_path / "cifar-10-binary.tar.gz"
    with serve_folder(path.parent) as base:
        with pytest.raises(UserError, match="Downloaded .* but it is not the expected file"):
            download_archive(_url(base, synthetic), dest, "0" * 32, None, retries=0)
        with pytest.raises(UserError, match="larger than the expected 10 bytes"):
            download_archive(_url(base, synthetic), dest, "0" * 32, 10, retries=0)
    assert list(tmp_path.iterdir()) == []


def test_cut_download_is_never_used(tmp_path, synthetic):
    """The server announces the whole file and closes half-way: nothing is kept."""
    path, md5 = synthetic
    dest = tmp_path / "cifar-10-binary.tar.gz"
    half = ServerBehaviour(cut_half=True)
    with serve_folder(path.parent, half) as base, pytest.raises(UserError) as caught:
        download_archive(_url(base, synthetic), dest, md5, path.stat().st_size, retries=0)
    assert "put it at" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_flaky_server_is_retried(tmp_path, synthetic):
    path, md5 = synthetic
    dest = tmp_path / "cifar-10-binary.tar.gz"
    flaky = ServerBehaviour(fail_first=1)
    with serve_folder(path.parent, flaky) as base:
        download_archive(_url(base, synthetic), dest, md5, path.stat().st_size, retries=1)
    assert dest.read_bytes() == path.read_bytes()
    assert len(flaky.requests) == 2


def test_download_missing_file(tmp_path, synthetic):
    dest = tmp_path / "cifar-10-binary.tar.gz"
    with serve_folder(synthetic[0].parent) as base, pytest.raises(UserError) as caught:
        download_archive(f"{base}/absent.tar.gz", dest, "0" * 32, None, retries=0)
    assert str(caught.value).startswith(f"Could not download {base}/absent.tar.gz (404")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["not a url", "file:///tmp/cifar-10-binary.tar.gz"])
def test_download_refuses_other_urls(tmp_path, url):
    with pytest.raises(UserError, match=f"Could not download {url} \\(not an http, https"):
        download_archive(url, tmp_path / "a.tar.gz", "0" * 32, None)
    assert list(tmp_path.iterdir()) == []


def test_download_interrupted_leaves_nothing(tmp_path, synthetic):
    path, md5 = synthetic

    def interrupt(received: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with serve_folder(path.parent) as base, pytest.raises(KeyboardInterrupt):
        download_archive(
            _url(base, synthetic), tmp_path / "a.tar.gz", md5, None, progress=interrupt
        )
    assert list(tmp_path.iterdir()) == []
