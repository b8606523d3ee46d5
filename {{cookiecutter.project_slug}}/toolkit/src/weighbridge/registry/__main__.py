"""``python -m <package>.registry``: the same as the ``registry`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
