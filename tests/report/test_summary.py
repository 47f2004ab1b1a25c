"""Tests for cifar_zeroshot.report.summary: results/summary.md from the metrics table."""

import pytest
from run_files import GROUPS, NAMES, FirstMemberMethod, write_three_runs

from cifar_zeroshot.analysis.metrics_tables import build_tables
from cifar_zeroshot.methods import registry
from cifar_zeroshot.methods.class_mapping import ClassMappingMethod
from cifar_zeroshot.report.summary import summary_markdown, write_summary_markdown


@pytest.fixture
def runs(tmp_path):
    return write_three_runs(tmp_path)


def test_summary_markdown_header_and_rows(runs):
    text = summary_markdown(
        build_tables(runs, [ClassMappingMethod(GROUPS, "max_logit")], NAMES).metrics
    )
    lines = text.splitlines()
    assert lines[0] == (
        "Zero-shot accuracy on synthetic images (dataset **synthetic**, 30 test images), "
        "CIFAR-10 scores pooled "
        "from ImageNet logits with **max_logit**; 95 % Wilson intervals in brackets; timings "
        "exclude warm-up batches."
    )
    assert lines[2].startswith("| model | variant | weights | device |")  # one method: no column
    assert len([line for line in lines if line.startswith("| resnet")]) == 2
    assert "| 100.0 [88.6, 100.0] |" in text  # resnet fp32: 30/30 with its Wilson interval
    assert "512 MiB (host RSS)" in text  # CPU runs: no GPU figure
    # The model's size (millions) and FLOPs per image, from the run facts.
    assert lines[2].endswith("| peak memory | parameters (M) | GFLOPs/image |")
    assert "| 512 MiB (host RSS) | 1.00 | 0.500 |" in text


def test_summary_with_several_methods_names_them(runs, monkeypatch):
    monkeypatch.setattr(registry, "METHODS", (*registry.METHODS, FirstMemberMethod))
    methods = [ClassMappingMethod(GROUPS, "sum_prob"), FirstMemberMethod()]
    text = summary_markdown(build_tables(runs, methods, NAMES).metrics)
    lines = text.splitlines()
    assert (
        "method class_mapping: CIFAR-10 scores pooled from ImageNet logits with **sum_prob**; "
        "method first_member: scores from each class's **first member**;"
    ) in lines[0]
    assert lines[2].startswith("| model | variant | method | weights |")
    assert "| resnet | fp32 | first_member | resnet_Weights.X |" in text
    # Figures of the class-mapping method only are "n/a" for the other method.
    assert "| vit | fp32 | first_member" not in text  # the method skips vit
    first_member = next(line for line in lines if "| resnet | bf16 | first_member" in line)
    assert first_member.split(" | ")[9] == "n/a"  # unrestricted top-1


def test_empty_table_and_written_file(runs, tmp_path):
    metrics = build_tables(runs, [ClassMappingMethod(GROUPS, "max_logit")], NAMES).metrics
    assert summary_markdown(metrics.iloc[:0]) == "No runs.\n"
    path = tmp_path / "out" / "summary.md"
    write_summary_markdown(metrics, path)
    assert path.read_text(encoding="utf-8") == summary_markdown(metrics)
    assert not list(path.parent.glob(".*tmp"))


def test_a_long_table_shows_its_best_rows_and_names_the_files_with_the_rest(runs, monkeypatch):
    from cifar_zeroshot.report import summary

    metrics = build_tables(runs, [ClassMappingMethod(GROUPS, "max_logit")], NAMES).metrics
    monkeypatch.setattr(summary, "SUMMARY_ROWS", 2)
    lines = summary_markdown(metrics).splitlines()
    rows = [line for line in lines if line.startswith("| resnet") or line.startswith("| vit")]
    assert [row.split(" | ")[:2] for row in rows] == [["| resnet", "fp32"], ["| resnet", "bf16"]]
    assert (
        "The 2 of 3 rows with the highest top-1; every row: results/metrics.csv, ranked per "
        "test set and method: results/leaderboard.csv."
    ) in lines
    monkeypatch.setattr(summary, "SUMMARY_ROWS", 3)
    assert "The 3 of 3" not in summary_markdown(metrics)  # all shown: no pointer
