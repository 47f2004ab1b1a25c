"""A weights loader's failure, in the few words a one-line UserError quotes."""

import pickle
import re

from safetensors import SafetensorError

# What reading a weights file raises when the file is damaged, truncated, of another format or a
# refused pickle: one message names it (each loader's own words).
WEIGHTS_FILE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    RuntimeError,
    ValueError,
    SafetensorError,
    pickle.UnpicklingError,
    EOFError,
)

# torch's weights-only refusal runs to a page, and opens by offering weights_only=False, which
# would run the file's code; its reason is the line that names what the file holds.
_WEIGHTS_ONLY_REFUSAL = re.compile(r"WeightsUnpickler error: (.*?)(?:\. |\.?$)", re.MULTILINE)
_LONGEST = 200


def load_failure(error: BaseException) -> str:
    """Why loading failed, in one line: torch's weights-only reason, else the first line."""
    text = str(error)
    refusal = _WEIGHTS_ONLY_REFUSAL.search(text)
    if refusal is not None:
        return f"torch's weights-only loader refused it: {refusal.group(1)[:_LONGEST]}"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:_LONGEST] if first else type(error).__name__
