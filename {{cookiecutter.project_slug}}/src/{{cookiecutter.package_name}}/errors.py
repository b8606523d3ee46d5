"""One-line user errors and the wrapper every command-line entry point uses."""

from __future__ import annotations

import sys
from collections.abc import Callable


class ProjectError(Exception):
    """A problem the user can fix: bad params, bad data, a failed gate. One line, no traceback."""


def run_cli(main: Callable[[], int | None]) -> None:
    """Run ``main`` and turn a ProjectError into ``error: …`` on stderr and exit status 1."""
    try:
        status = main()
    except ProjectError as exc:
        message = " ".join(str(exc).split())  # always exactly one line
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(status or 0)
