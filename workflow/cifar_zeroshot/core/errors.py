"""The one exception type users see: a message that names the problem and the fix."""


class UserError(Exception):
    """A problem with the user's input, configuration or files.

    The message must say what is wrong and what to do about it; callers print it without a
    traceback where they can.
    """
