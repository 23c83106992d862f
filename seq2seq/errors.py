"""The one exception type for mistakes a user can fix.

The CLI prints a `UserError` as a single line (no traceback) and exits with code 2,
so every message must name the file / line / key at fault and say what to do.
"""


class UserError(Exception):
    """Bad input: a wrong path, misaligned files, an unknown config key, ..."""


class Interrupted(Exception):
    """Training stopped by Ctrl-C or SIGTERM after saving a resumable checkpoint."""
