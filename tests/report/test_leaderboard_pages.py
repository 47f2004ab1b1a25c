"""The leaderboard in the summary (bounded: the top of each ranking) and as a sortable page."""

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from cifar_zeroshot.analysis.leaderboard import LEADERBOARD_COLUMNS
from cifar_zeroshot.report.html_pages import leaderboard_html
from cifar_zeroshot.report.leaderboard_section import leaderboard_summary_lines
from cifar_zeroshot.report.provenance import provenance_note


def board(count: int, test_set: str = "cifar10", blocks: int = 0) -> pd.DataFrame:
    top1 = np.linspace(0.9, 0.1, count)
    return pd.DataFrame(
        {
            "test_set": test_set,
            "test_set_title": "synthetic images",
            "method": "class_mapping",
            "rank": np.arange(1, count + 1),
            "model": [f"model<{n}>" for n in range(count)],
            "variant": "fp32",
            "weights": "none",
            "images": 200,
            "blocks": blocks,
            "top1": top1,
            "top1_ci_low": top1 - 0.05,
            "top1_ci_high": top1 + 0.05,
            "balanced_accuracy": np.nan,
            "images_per_second": 100.0 + np.arange(count),
            "ms_per_image": 2.5,
            "peak_memory_mb": 900.0,
            "peak_memory_source": "host RSS",
            "parameters": 1e6,
            "gflops_per_image": 0.5,
            "published_imagenet_top1": [0.7] + [np.nan] * (count - 1),
            "letters": "" if blocks else ["a"] * count,
        },
        columns=list(LEADERBOARD_COLUMNS),
    )


def pairs(count: int, significant: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "test_set": "cifar10",
            "corruption": "",
            "method_a": "class_mapping",
            "method_b": "class_mapping",
            "significant": [n < significant for n in range(count)],
        }
    )


def test_the_summary_shows_the_top_of_each_ranking_and_counts_the_rest():
    lines = leaderboard_summary_lines(board(25), pairs(300, 40), top=10)
    text = "\n".join(lines)
    rows = [line for line in lines if line.startswith("| class_mapping |")]
    assert len(rows) == 10
    assert rows[0] == ("| class_mapping | 1 | model<0> | fp32 | 90.0 [85.0, 95.0] | a | 100.0 |")
    assert "class_mapping: 25 results, 300 pairs, 40 significant" in text
    assert "The other 15 results of cifar10: results/leaderboard.csv." in text
    assert "### cifar10 (synthetic images)" in text


def test_a_short_ranking_is_shown_whole_and_cifar10_c_without_letters():
    both = pd.concat([board(3), board(2, "cifar10-c", blocks=6)], ignore_index=True)
    text = "\n".join(leaderboard_summary_lines(both, pairs(3, 1)))
    assert "The other" not in text
    assert "class_mapping: 3 results, 3 pairs, 1 significant" in text
    assert "class_mapping: 2 results (mean over 6 blocks)" in text
    assert "| class_mapping | 1 | model<0> | fp32 | 90.0 [85.0, 95.0] | - |" in text


def test_the_page_is_one_sortable_escaped_table_per_test_set_without_outside_resources():
    note = provenance_note(
        pd.DataFrame({"dataset": ["synthetic"], "weights": ["none"], "model": ["m"]})
    )
    page = leaderboard_html(board(200), note)
    assert page.count("<table class='sortable'>") == 1
    assert len(re.findall(r"<tr><td>", page)) == 200  # every row, for the reader to sort
    assert "model&lt;0&gt;" in page and "model<0>" not in page
    assert "<th data-numeric>top-1 % [95 % CI]</th>" in page and "<th>model</th>" in page
    # Numbers sort by their value, not their text; a missing one has an empty value.
    assert "<td data-value='0.90000000000000002'>90.0 [85.0, 95.0]</td>" in page
    assert "<td data-value=''>n/a</td>" in page
    assert page.count("<script>") == 1 and "src=" not in page and "http" not in page
    assert "class='note'" in page


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the page's script")
def test_the_pages_script_sorts_numbers_highest_first_and_missing_last(tmp_path):
    page = leaderboard_html(board(3), None)
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    # A minimal document: one table, its published top-1 column clicked twice.
    harness = """
    function cell(text, value) { return {textContent: text,
      getAttribute: function () { return value === undefined ? null : value; }}; }
    var body = {rows: [
      {name: 'b', cells: [cell('b'), cell('0.5', '0.5')]},
      {name: 'a', cells: [cell('a'), cell('n/a', '')]},
      {name: 'c', cells: [cell('c'), cell('0.9', '0.9')]}],
      appendChild: function (r) { this.rows = this.rows.filter(function (x) { return x !== r; });
        this.rows.push(r); }};
    var headings = [false, true].map(function (numeric) { return {dataset: {},
      hasAttribute: function () { return numeric; },
      addEventListener: function (e, f) { this.click = f; }}; });
    var table = {tBodies: [body], querySelectorAll: function () { return headings; }};
    var document = {querySelectorAll: function () { return [table]; }};
    var order = function () { return body.rows.map(function (r) { return r.name; }).join(''); };
    SCRIPT
    headings[1].click(); var first = order(); headings[1].click(); var second = order();
    headings[0].click(); console.log(first, second, order());
    """.replace("SCRIPT", script)
    path = tmp_path / "harness.js"
    path.write_text(harness, encoding="utf-8")
    out = subprocess.run(["node", str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["cba", "bca", "abc"]


def test_an_empty_leaderboard_says_so():
    empty = pd.DataFrame(columns=list(LEADERBOARD_COLUMNS))
    assert leaderboard_summary_lines(empty, pd.DataFrame())[-1] == "No results to rank."
    assert "<p>No results to rank.</p>" in leaderboard_html(empty, None)
