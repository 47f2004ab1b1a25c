"""The CLIP prompts file: the shipped prompts, every refusal with its fix, and the digest."""

import re
from pathlib import Path

import pytest
from workflow_runner import REPO

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.methods.clip.prompts import ClipPrompts, load_prompts, prompts_digest

SHIPPED = REPO / "config" / "clip_prompts.yaml"
CLASSES = "\n".join(f"  {name}: {name}" for name in CIFAR10_CLASSES)
GOOD = (
    f'templates:\n  - "a photo of a {{}}."\n  - "a bad photo of the {{}}."\nclasses:\n{CLASSES}\n'
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prompts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as caught:
        load_prompts(_write(tmp_path, text))
    return str(caught.value)


def test_shipped_prompts_are_the_clip_papers_cifar10_prompts() -> None:
    prompts = load_prompts(SHIPPED)
    assert len(prompts.templates) == 18
    assert prompts.templates[0] == "a photo of a {}."
    assert prompts.templates[-1] == "a photo of the big {}."
    assert prompts.wordings == CIFAR10_CLASSES
    texts = prompts.texts()
    assert len(texts) == 10 and all(len(per_class) == 18 for per_class in texts)
    assert texts[CIFAR10_CLASSES.index("cat")][0] == "a photo of a cat."
    assert texts[0][2] == "a black and white photo of a airplane."
    assert prompts.source == str(SHIPPED)


def test_texts_follow_label_order_whatever_the_file_order(tmp_path: Path) -> None:
    shuffled = "\n".join(f"  {name}: the {name}" for name in reversed(CIFAR10_CLASSES))
    prompts = load_prompts(_write(tmp_path, f'templates: ["a {{}}!"]\nclasses:\n{shuffled}\n'))
    assert prompts.texts() == [[f"a the {name}!"] for name in CIFAR10_CLASSES]


def test_digest_is_canonical_and_follows_every_change(tmp_path: Path) -> None:
    prompts = load_prompts(_write(tmp_path, GOOD))
    digest = prompts_digest(prompts)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    reordered = GOOD.replace(CLASSES, "\n".join(reversed(CLASSES.splitlines())))
    assert prompts_digest(load_prompts(_write(tmp_path, reordered))) == digest
    changed = [
        ClipPrompts(prompts.templates, ("plane", *prompts.wordings[1:])),
        ClipPrompts(prompts.templates[::-1], prompts.wordings),
        ClipPrompts(prompts.templates[:1], prompts.wordings),
    ]
    assert len({digest, *(prompts_digest(p) for p in changed)}) == 4


@pytest.mark.parametrize(
    ("change", "problem", "fix"),
    [
        (("  cat: cat\n", ""), "CIFAR-10 class 'cat' is missing", "add `cat: <wording>`"),
        (
            ("classes:\n", "classes:\n  kitten: kitten\n"),
            "'kitten' is not a CIFAR-10 class",
            "rename or delete it",
        ),
        (
            ('  - "a photo of a {}."\n  - "a bad photo of the {}."\n', ""),
            "found nothing",
            "add templates such as",
        ),
        (("cat: cat", "cat: 5"), "class 'cat': wording 5 is not text", 'e.g. `cat: "cat"`'),
        (("cat: cat", "cat: [a, b]"), "wording ['a', 'b'] is not text", "in quotes"),
        (("cat: cat", 'cat: "  "'), "class 'cat' has an empty wording", "e.g. `cat: cat`"),
        (("cat: cat", "cat:"), "class 'cat' has an empty wording", "write the words for it"),
        (
            ('"a photo of a {}."', '"a photo."'),
            "template 1 ('a photo.') has no {}",
            "write exactly one {}",
        ),
        (('"a photo of a {}."', '"a {} of a {}."'), "has {} 2 times", "write exactly one {}"),
        (
            ('"a photo of a {}."', '"a {0} photo {}"'),
            "has a brace that is not part of {}",
            "delete it",
        ),
        (('"a photo of a {}."', "7"), "template 1 (7) is not text", "write it in quotes"),
        (
            ('"a bad photo of the {}."', '"a photo of a {}."'),
            "template 2 repeats template 1",
            "delete one",
        ),
        (("classes:", "labels: x\nclasses:"), "unknown key 'labels'", "delete it"),
        (
            ("classes:", "classes: [cat]\nc:"),
            "`classes:` must map every CIFAR-10 class",
            "one `<class>: <wording>` line per class",
        ),
    ],
)
def test_each_problem_is_refused_with_its_fix(tmp_path: Path, change, problem, fix) -> None:
    old, new = change
    assert old in GOOD
    message = _refusal(tmp_path, GOOD.replace(old, new, 1))
    assert problem in message
    assert fix in message


def test_an_empty_template_list_is_refused(tmp_path: Path) -> None:
    text = f"templates: []\nclasses:\n{CLASSES}\n"
    message = _refusal(tmp_path, text)
    assert "found an empty list" in message and "add templates such as" in message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = GOOD.replace('"a photo of a {}."', '"a photo."').replace("  dog: dog\n", "")
    message = _refusal(tmp_path, text.replace("cat: cat", "cat: ''"))
    assert "has 3 problems:" in message
    for problem in ("has no {}", "'dog' is missing", "'cat' has an empty wording"):
        assert problem in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "it is empty"),
        ("- a\n- b\n", "found ['a', 'b']"),
        (f"classes:\n{CLASSES}\n", "`templates:` is missing"),
        ('templates: ["{}"]\n', "`classes:` is missing"),
        ('templates: &t ["{}"]\nextra: *t\n', "invalid YAML at line 2"),
        ("templates: [\n", "invalid YAML"),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    assert problem in _refusal(tmp_path, text)


def test_a_missing_file_names_the_shipped_one(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found: create it.*config/clip_prompts.yaml"):
        load_prompts(tmp_path / "nowhere.yaml")
