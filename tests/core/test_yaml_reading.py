"""The project's YAML reader: aliases, duplicate keys and octal-looking numbers are refused."""

import time

import pytest
import yaml

from cifar_zeroshot.core.yaml_reading import StrictLoader, excerpt, yaml_problem


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
