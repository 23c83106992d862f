"""The one exception type for mistakes a user can fix.

The CLI prints a `UserError` as a single line (no traceback) and exits with code 2,
so every message must name the file / line / key at fault and say what to do.
"""


class UserError(Exception):
    """Bad input: a wrong path, misaligned files, an unknown config key, ..."""


class Interrupted(Exception):
    """Training stopped by Ctrl-C or SIGTERM after saving a resumable checkpoint.

    `signum` is the signal that asked for the stop: the CLI exits with 128 + signum (130 for
    Ctrl-C, 143 for SIGTERM), as a shell reports a process that signal ended."""

    def __init__(self, message: str, signum: int = 2):
        super().__init__(message)
        self.signum = signum


class InputTypeError(UserError, TypeError):
    """An API argument of the wrong type (a str where a list of sentences belongs, ...).
    Both a `UserError` (the CLI prints one line) and a `TypeError` (what Python code expects)."""


class InputValueError(UserError, ValueError):
    """An API argument of the right type but an unusable value (beam 0, an overlong input)."""
