"""One-line user errors and the wrapper every command-line entry point uses."""

from __future__ import annotations

import sys
from collections.abc import Callable


class ProjectError(Exception):
    """A problem the user can fix: bad params, bad data, a failed gate. One line, no traceback."""


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on written as its escape:
    control characters (ESC sequences, ``\\r``, newlines, NUL), invisible format
    characters (bidi overrides), line separators. Messages quote data from anyone."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def run_cli(main: Callable[[], int | None]) -> None:
    """Run ``main`` and turn a ProjectError into ``error: …`` on stderr and exit status 1."""
    try:
        status = main()
    except ProjectError as exc:
        message = printable(" ".join(str(exc).split()))  # always exactly one line
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(status or 0)
