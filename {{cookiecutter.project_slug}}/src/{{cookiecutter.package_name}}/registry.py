"""``python -m <package>.registry``: the toolkit's ``registry`` command (SPEC §5)."""

from weighbridge.registry.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
