"""The summary and metrics pages the report shows inside itself."""

import pandas as pd

from cifar_zeroshot.report.html_pages import metrics_html, summary_html, write_html


def _metrics(**changes) -> pd.DataFrame:
    row = {
        "model": "alexnet",
        "variant": "fp32",
        "method": "class_mapping",
        "weights": "none",
        "dataset": "synthetic",
        "device": "cpu",
        "device_name": "AMD <EPYC>",
        "images": 200,
        "pooling": "max_logit",
        "top1": 0.1,
        "top1_ci_low": 0.066,
        "top1_ci_high": 0.149,
        "top5": 0.5,
        "unrestricted_top1": 0.02,
        "images_per_second": 113.8,
        "ms_per_image": 8.79,
        "host_peak_rss_mb": 1106.0,
        "probe_regularisation": float("nan"),
    }
    return pd.DataFrame([{**row, **changes}])


def test_the_summary_page_holds_the_summary_table_and_its_warning():
    page = summary_html(_metrics())
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "<th>top-1 % [95 % CI]</th>" in page
    assert "<td>10.0 [6.6, 14.9]</td>" in page
    assert "AMD &lt;EPYC&gt;" in page and "<EPYC>" not in page  # escaped
    assert "<b>synthetic</b>" in page  # the header's **bold**
    assert "class='note'>synthetic images, not CIFAR-10; untrained weights." in page


def test_real_runs_get_no_warning_and_an_empty_table_says_so():
    real = _metrics(dataset="cifar10", weights="AlexNet_Weights.IMAGENET1K_V1")
    assert "class='note'" not in summary_html(real)
    assert "<p>No runs.</p>" in summary_html(real.iloc[:0])


def test_the_metrics_page_leaves_out_columns_no_method_filled(tmp_path):
    page = metrics_html(_metrics())
    assert "<th>images_per_second</th>" in page and "<td>113.8</td>" in page
    assert "probe_regularisation" not in page
    path = tmp_path / "tables" / "metrics.html"
    write_html(page, path)
    assert path.read_text(encoding="utf-8") == page


def test_sections_page_turns_headings_items_and_paragraphs_into_escaped_html():
    from cifar_zeroshot.report.html_pages import sections_html

    page = sections_html(
        [["## Paired comparisons", "", "Text <b>", "", "- **a** beats b", "- c"]], "synthetic"
    )
    assert "<h3>Paired comparisons</h3>" in page
    assert "<p>Text &lt;b&gt;</p>" in page
    assert "<ul><li><b>a</b> beats b</li><li>c</li></ul>" in page
    # A note that names sources only (real runs) is no warning.
    assert "class='source'>Made from: synthetic</p>" in page
