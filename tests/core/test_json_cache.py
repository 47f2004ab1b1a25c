"""Cache files are hints: anything that is not a small regular file of JSON is ignored."""

import os

import pytest

from cifar_zeroshot.core import json_cache
from cifar_zeroshot.core.json_cache import cache_path, read_json_cache, write_json_cache


def test_a_written_value_reads_back_under_the_configured_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_ZEROSHOT_CACHE", str(tmp_path / "cache"))
    path = cache_path("facts.json")
    assert path == tmp_path / "cache" / "facts.json"
    write_json_cache(path, {"a": [1, 2]})
    assert read_json_cache(path) == {"a": [1, 2]}
    assert read_json_cache(tmp_path / "absent.json") is None


@pytest.mark.parametrize("kind", ["folder", "fifo", "large", "garbage"])
def test_what_cannot_be_a_cache_file_is_ignored(tmp_path, monkeypatch, kind):
    path = tmp_path / "facts.json"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # reading it would wait forever
    elif kind == "large":
        monkeypatch.setattr(json_cache, "MOST_BYTES", 10)
        path.write_text('{"a": "' + "x" * 20 + '"}')
    else:
        path.write_bytes(b"\xff{")
    assert read_json_cache(path) is None


def test_an_unwritable_cache_is_skipped(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    write_json_cache(blocker / "facts.json", {"a": 1})  # its folder cannot be made: no error
    assert not (blocker / "facts.json").exists()
