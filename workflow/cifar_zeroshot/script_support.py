"""Helpers for the thin Snakemake scripts in workflow/scripts."""

import sys
from collections.abc import Callable
from pathlib import Path

from cifar_zeroshot.errors import UserError


def run_reporting_user_errors(main: Callable[[], None], log_path: str | Path | None = None) -> None:
    """Run ``main``; turn a UserError into one readable line on stderr (and the log) and exit 1.

    Snakemake then reports the job as failed and removes its outputs, so the user sees the
    message that names the problem and the fix rather than a traceback.
    """
    try:
        main()
    except UserError as error:
        message = f"ERROR: {error}"
        print(message, file=sys.stderr)
        if log_path:
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(message + "\n")
        sys.exit(1)
