"""The metrics job's files from its results (analysis/metrics_job.py): the metrics CSVs, the
paired tests, the leaderboard and reliability bins, results/summary.md (written once, every
section in it), the statistics page and the leaderboard page."""

from typing import Any

from cifar_zeroshot.analysis.metrics_job import MetricsResults
from cifar_zeroshot.core.csv_output import write_csv
from cifar_zeroshot.report.balanced_plot import unbalanced_sets_lines
from cifar_zeroshot.report.failed_runs import failed_runs_lines, write_failed_runs
from cifar_zeroshot.report.few_shot import few_shot_summary_lines
from cifar_zeroshot.report.html_pages import leaderboard_html, sections_html, write_html
from cifar_zeroshot.report.leaderboard_section import leaderboard_summary_lines
from cifar_zeroshot.report.paired_section import paired_summary_lines
from cifar_zeroshot.report.provenance import provenance_note
from cifar_zeroshot.report.robustness_section import robustness_section_lines
from cifar_zeroshot.report.summary import write_summary_markdown
from cifar_zeroshot.report.transfer_section import transfer_summary_lines


def write_metrics_outputs(results: MetricsResults, out: Any) -> None:
    """Every file of the metrics rule's output (anything with its names as attributes)."""
    tables, paired = results.tables, results.paired
    tables.write(out.metrics, out.per_class, out.confusion, out.top_confusions)
    write_csv(paired.table, out.paired_tests)
    write_csv(results.leaderboard, out.leaderboard)
    write_csv(results.reliability, out.reliability)
    write_csv(results.balancing, out.balancing)
    write_csv(results.per_class_poolings, out.per_class_poolings)
    write_failed_runs(results.failed, out.failed_runs, out.failed_targets)
    sections = [paired_summary_lines(paired.table, paired.unpaired, paired.significance)]
    if results.unbalanced_sets:
        sections.append(unbalanced_sets_lines(results.unbalanced_sets))
    if results.few_shot is not None:
        sections.append(few_shot_summary_lines(results.few_shot, results.reference))
    transfer = transfer_summary_lines(results.leaderboard)
    if transfer:
        sections.append(transfer)
    note = provenance_note(tables.metrics)
    # With shifted test sets: the robustness table after CIFAR-10's summary and its note.
    robustness = robustness_section_lines(results.robustness, note)
    # The leaderboard's tables go to the summary; the report shows them on their own page.
    leaderboard = leaderboard_summary_lines(results.leaderboard, paired.table)
    # The failed runs first after the table: a reader must not miss a run that is absent.
    failed = [failed_runs_lines(results.failed)] if results.failed else []
    write_summary_markdown(
        results.reference, out.summary, [*failed, leaderboard, *sections], [robustness]
    )
    write_html(sections_html([*failed, *sections], note), out.statistics)
    write_html(leaderboard_html(results.leaderboard, note), out.leaderboard_page)
