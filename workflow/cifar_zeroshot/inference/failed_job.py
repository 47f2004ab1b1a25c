"""An inference job of a test set that fails inside its model: recorded as a failed run.

One model that cannot be built, loaded or run must not cost the results of the others: the job
writes its outputs as failure records (records.failed_run) and ends as done, and the metrics
list the run as failed, with its one-line error and the job's log. An error of the machine
(OSError: a full disk, an unwritable folder) stops the run as any job's error does, and so does
a job that fails while writing those records.
"""

import logging
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.job_log import error_line
from cifar_zeroshot.records.failed_run import FailedRun, write_failed_outputs

log = logging.getLogger(__name__)


@contextmanager
def recorded_failure(
    run: tuple[str, str, str], outputs: Sequence[str | Path], log_path: str | Path, log_file: TextIO
) -> Iterator[None]:
    """Run the block; on any failure, write each of ``outputs`` as the failure of ``run``
    ((test set, model, variant)) and put the traceback in ``log_file`` (the job's log)."""
    try:
        yield
    except OSError:
        # The machine's, not the model's (a full disk, an unwritable folder): the run stops
        # with the job's one-line error, and no failure record could be written anyway.
        raise
    except Exception as error:
        log_file.write(traceback.format_exc())
        # A UserError already says the problem and the fix; anything else is named by type.
        line = (
            str(error).splitlines()[0]
            if isinstance(error, UserError)
            else error_line(error, list(outputs))
        )
        test_set, model, variant = run
        write_failed_outputs(outputs, FailedRun(test_set, model, variant, line, str(log_path)))
        log.warning(
            "%s %s on %s failed: %s; recorded as a failed run (results/failed_runs.csv once "
            "the metrics run), details in %s",
            model,
            variant,
            test_set,
            line,
            log_path,
        )
