"""Where a job's messages go: its log file, and one line on the terminal for a user error."""

import logging
import warnings

import pytest

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.job_log import job_log

log = logging.getLogger("cifar_zeroshot.test")


def test_success_logs_what_was_done_and_what_was_written(tmp_path, capsys):
    output = tmp_path / "out.csv"
    with job_log(tmp_path / "logs/job.log", [output]) as stream:
        log.info("read 12 images")
        stream.write("progress 12/12\n")
        output.write_text("a,b\n")
    text = (tmp_path / "logs/job.log").read_text()
    assert "INFO read 12 images" in text
    assert "progress 12/12" in text
    assert text.splitlines()[-1].startswith("done in ")
    assert f"wrote {output} (4 bytes)" in text
    assert capsys.readouterr().err == ""  # INFO stays in the log


def test_warnings_reach_the_log_and_the_terminal(tmp_path, capsys):
    with job_log(tmp_path / "job.log"):
        log.warning("horse has only one ImageNet class")
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
    text = (tmp_path / "job.log").read_text()
    err = capsys.readouterr().err
    assert "WARNING horse has only one ImageNet class" in text
    assert "WARNING: horse has only one ImageNet class" in err
    assert "a library's warning" in text and "a library's warning" in err


def test_user_error_is_one_line_on_the_terminal_and_exit_status_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped, job_log(tmp_path / "job.log"):
        raise UserError("limit 0 is not allowed. Fix: use null or a positive number.")
    assert stopped.value.code == 1
    expected = "ERROR: limit 0 is not allowed. Fix: use null or a positive number."
    assert capsys.readouterr().err.strip() == expected
    text = (tmp_path / "job.log").read_text()
    assert text.strip().splitlines()[-1] == expected
    assert "done in" not in text


def test_a_bug_keeps_its_traceback_in_the_log(tmp_path, capsys):
    def failing_step():
        raise KeyError("a bug, not a user error")

    with pytest.raises(SystemExit) as stopped, job_log(tmp_path / "job.log"):
        failing_step()
    assert stopped.value.code == 1
    text = (tmp_path / "job.log").read_text()
    assert "Traceback (most recent call last)" in text and "failing_step" in text
    err = capsys.readouterr().err
    assert "KeyError" in err and str(tmp_path / "job.log") in err
    assert "Traceback" not in err  # the terminal gets one line; the log has the rest


def test_logging_is_reset_after_the_job(tmp_path, capsys):
    with job_log(tmp_path / "job.log"):
        pass
    log.warning("after the job")
    assert "after the job" not in (tmp_path / "job.log").read_text()


def test_a_full_disk_is_one_line_with_the_fix(tmp_path, capsys):
    def write_logits():
        raise OSError(28, "No space left on device", "results/logits/alexnet/fp32.parquet")

    with pytest.raises(SystemExit), job_log(tmp_path / "job.log"):
        write_logits()
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [
        "ERROR: No space left on device while writing results/logits/alexnet/fp32.parquet: "
        f"free some space and rerun (details in {tmp_path / 'job.log'})"
    ]
    assert "Traceback" in (tmp_path / "job.log").read_text()


def test_a_full_disk_under_a_writer_that_names_no_file_names_the_output_folders(tmp_path, capsys):
    def write_logits():  # as pyarrow raises it: errno set, no file name, its own wording
        raise OSError(28, "Error writing bytes to file. Detail: [errno 28] No space left on device")

    outputs = ["results/logits/alexnet/fp32.parquet", "results/timing/alexnet/fp32.parquet"]
    with pytest.raises(SystemExit), job_log(tmp_path / "job.log", outputs):
        write_logits()
    assert capsys.readouterr().err.strip().splitlines() == [
        "ERROR: No space left on device while writing into results/logits/alexnet, "
        f"results/timing/alexnet: free some space and rerun (details in {tmp_path / 'job.log'})"
    ]


def test_a_log_that_cannot_be_written_is_one_line(tmp_path, capsys):
    (tmp_path / "logs").write_text("a file where the log folder belongs")
    with pytest.raises(SystemExit) as stopped, job_log(tmp_path / "logs/job.log"):
        pass
    assert stopped.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ERROR: cannot write the job's log: ") and "\n" not in err
