"""``python -m <package>.predict``: the toolkit's ``predict`` command."""

from weighbridge.predict import main

if __name__ == "__main__":
    main()
