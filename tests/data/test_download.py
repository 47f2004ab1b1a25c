"""Tests for cifar_zeroshot.data.download: .part, verification, rename, and the by-hand hint."""

import functools
import http.server
import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.data.archive import CIFAR10_ARCHIVE_BYTES, CIFAR10_MD5
from cifar_zeroshot.data.download import download_archive


@pytest.fixture
def local_http(synthetic) -> Iterator[str]:
    """A loopback-only HTTP server serving the synthetic archive's folder."""
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(synthetic[0].parent)
    )
    handler.log_message = lambda *args: None  # keep the test output quiet
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{synthetic[0].name}"
    finally:
        server.shutdown()
        server.server_close()


def test_download_from_file_url(tmp_path, synthetic, caplog):
    path, md5 = synthetic
    dest = tmp_path / "data" / "cifar-10-binary.tar.gz"
    size = path.stat().st_size
    with caplog.at_level(logging.INFO, logger="cifar_zeroshot"):
        download_archive(path.as_uri(), dest, md5, size)
    assert dest.read_bytes() == path.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]
    # The default progress and the result both go to the job's log.
    assert f"downloaded {size:,} / {size:,} bytes" in caplog.text
    assert f"downloaded and verified {size:,} bytes" in caplog.text and str(dest) in caplog.text


def test_download_from_loopback_http(tmp_path, synthetic, local_http):
    path, md5 = synthetic
    dest = tmp_path / "data" / "cifar-10-binary.tar.gz"
    seen: list[int] = []
    download_archive(
        local_http, dest, md5, path.stat().st_size, progress=lambda got, total: seen.append(got)
    )
    assert dest.read_bytes() == path.read_bytes()
    assert seen[-1] == path.stat().st_size


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
        download_archive(url, "data/cifar-10-binary.tar.gz", CIFAR10_MD5, CIFAR10_ARCHIVE_BYTES)
    message = str(caught.value)
    assert message.startswith(f"Could not download {url} (")
    assert "put it at data/cifar-10-binary.tar.gz" in message
    assert "170,052,171 bytes" in message and CIFAR10_MD5 in message
    assert message.endswith(
        "or run the offline demo (synthetic images, no download): "
        "./run.sh --configfile config/presets/demo.yaml."
    )
    assert list((tmp_path / "data").iterdir()) == []  # no .part, no archive


def test_download_with_wrong_checksum_leaves_nothing(tmp_path, synthetic, local_http):
    path, _ = synthetic
    dest = tmp_path / "cifar-10-binary.tar.gz"
    with pytest.raises(UserError, match="MD5 is"):
        download_archive(local_http, dest, "0" * 32, path.stat().st_size)
    with pytest.raises(UserError, match="larger than the expected 10 bytes"):
        download_archive(local_http, dest, "0" * 32, 10)
    assert list(tmp_path.iterdir()) == []


def test_download_missing_file_url(tmp_path):
    dest = tmp_path / "cifar-10-binary.tar.gz"
    with pytest.raises(UserError, match="Could not download"):
        download_archive((tmp_path / "absent").as_uri(), dest, "0" * 32, None)
    assert list(tmp_path.iterdir()) == []


def test_download_malformed_url(tmp_path):
    with pytest.raises(UserError, match="Could not download not a url"):
        download_archive("not a url", tmp_path / "a.tar.gz", "0" * 32, None)
    assert list(tmp_path.iterdir()) == []


def test_download_interrupted_leaves_no_part(tmp_path, synthetic):
    path, md5 = synthetic

    def interrupt(received: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_archive(path.as_uri(), tmp_path / "a.tar.gz", md5, None, progress=interrupt)
    assert list(tmp_path.iterdir()) == []
