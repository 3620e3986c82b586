"""User-facing errors: a mistake the user can fix ends in one line and a non-zero exit, never a traceback."""
from __future__ import annotations

import functools
import sys


class GzmorphError(Exception):
    """An input or configuration mistake; the message names the file or key and the fix."""


EXIT_USER_ERROR = 2


def cli(main):
    """Decorate a command's entry point so a GzmorphError prints one line and exits with status 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except GzmorphError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(EXIT_USER_ERROR)

    return wrapper
