"""The project's YAML reader: aliases, duplicate keys and octal-looking numbers are refused."""

import os
import time
from pathlib import Path

import pytest
import yaml

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.yaml_reading import (
    MAX_YAML_BYTES,
    StrictLoader,
    excerpt,
    read_yaml_file,
    yaml_problem,
)


def _load(text):
    return yaml.load(text, Loader=StrictLoader)


def test_plain_yaml_reads_as_safe_load_does():
    text = "a: [1, 2.5, -3, 0, true, null]\nb: {c: text, d: 0.5}\n"
    assert _load(text) == yaml.safe_load(text)


def test_an_alias_bomb_is_refused_at_once_with_its_line():
    # Nine levels of nine aliases: about 387 million elements if expanded.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    started = time.perf_counter()
    with pytest.raises(yaml.YAMLError) as caught:
        _load("\n".join(lines))
    assert time.perf_counter() - started < 1.0
    assert yaml_problem(caught.value).startswith(" at line 2, column")
    assert "alias" in yaml_problem(caught.value)


def test_duplicate_keys_are_refused_with_their_line():
    with pytest.raises(yaml.YAMLError) as caught:
        _load("a: 1\nb: 2\na: 3\n")
    assert yaml_problem(caught.value) == (
        " at line 3, column 1: duplicate key 'a' (merge the two entries)"
    )


@pytest.mark.parametrize("text", ["010", "-007", "0_10"])
def test_integers_with_a_leading_zero_are_refused(text):
    with pytest.raises(yaml.YAMLError, match="leading zero.*octal"):
        _load(f"index: {text}\n")


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("10", 10), ("-7", -7), ("0x1f", 31)])
def test_other_integers_read_as_usual(text, value):
    assert _load(f"index: {text}\n") == {"index": value}


def test_excerpt_shortens_long_values():
    assert len(excerpt("x" * 5000)) < 80
    assert len(excerpt(list(range(5000)))) < 80
    assert excerpt("short") == "'short'"


def _read(path):
    return read_yaml_file(path, "test file", "point the config at a YAML file")


def test_a_device_is_refused_without_being_read():
    # /dev/zero never ends: reading it whole ate the host's memory (issue 24).
    with pytest.raises(UserError) as caught:
        _read(Path("/dev/zero"))
    assert str(caught.value) == (
        "test file /dev/zero is not a regular file (it is a folder, device or pipe); point the "
        "configuration at the YAML file itself"
    )


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "prompts.yaml"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="is not a regular file"):
        _read(fifo)


def test_a_file_over_the_size_cap_is_refused_and_one_at_the_cap_is_read(tmp_path):
    path = tmp_path / "big.yaml"
    padding = "#" * (MAX_YAML_BYTES - len("a: 1\n") - 1) + "\n"
    path.write_text("a: 1\n" + padding)
    assert path.stat().st_size == MAX_YAML_BYTES
    assert _read(path) == {"a": 1}
    path.write_text("a: 1\n" + padding + "\n")
    with pytest.raises(UserError) as caught:
        _read(path)
    assert str(caught.value) == (
        f"test file {path} is larger than 1 MiB, far more than a test file holds; point the "
        "configuration at the right file"
    )
