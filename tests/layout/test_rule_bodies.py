"""No two rules hold the same body: an axis of the workflow (a test set, a model family) is a
wildcard or a registry value, never a copied rule."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULE = re.compile(r"^(\s*)rule (\w+):\n((?:\1    .*\n|\s*\n)+)", re.MULTILINE)


def rule_bodies(text: str) -> dict[str, str]:
    """Rule name -> its body with indentation and blank lines normalised."""
    bodies = {}
    for match in RULE.finditer(text):
        lines = [line.strip() for line in match.group(3).splitlines() if line.strip()]
        bodies[match.group(2)] = "\n".join(lines)
    return bodies


def duplicated_bodies(files: dict[str, str]) -> list[str]:
    seen: dict[str, str] = {}
    duplicates = []
    for path, text in files.items():
        for name, body in rule_bodies(text).items():
            if body in seen:
                duplicates.append(f"{path}: rule {name} repeats {seen[body]}")
            seen.setdefault(body, f"{path}: rule {name}")
    return duplicates


def test_no_two_rules_hold_the_same_body():
    files = {
        str(path.relative_to(REPO)): path.read_text()
        for path in sorted((REPO / "workflow/rules").glob("*.smk"))
    }
    assert len(rule_bodies("".join(files.values()))) >= 20  # the check reads the rules
    assert duplicated_bodies(files) == []


def test_the_check_names_a_copied_rule():
    rule = "rule inference:\n    input:\n        'a'\n    output:\n        'b'\n"
    copy = rule.replace("rule inference", "rule shifted_inference")
    assert duplicated_bodies({"a.smk": rule, "b.smk": "\n" + copy}) == [
        "b.smk: rule shifted_inference repeats a.smk: rule inference"
    ]
