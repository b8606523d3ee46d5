"""Jinja filters of this template; cookiecutter loads them through `_extensions`.

Jinja's `tojson` writes a character outside the BMP (an emoji) as a UTF-16 surrogate pair
(`\\ud83d\\ude00`), which TOML rejects and YAML reads back as two broken characters. The
`quoted` filter writes a string literal that TOML, YAML and JSON all read back unchanged.
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.ext import Extension

# Characters the three formats accept only escaped, or that YAML reads as a line break.
_ALWAYS_ESCAPED = {"\x85", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff"}


def _escaped(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    # Beyond the BMP, \u cannot be used (JSON and TOML differ there): write the character.
    if ord(char) > 0xFFFF:
        return char
    # Also escapes invisible format characters (RTL overrides, zero-width joiners), so a
    # reader of the baked file sees them.
    if char in _ALWAYS_ESCAPED or not char.isprintable():
        return f"\\u{ord(char):04x}"
    return char


def quoted(value: object) -> str:
    """`value` as a double-quoted TOML, YAML and JSON string that reads back unchanged."""
    return '"' + "".join(_escaped(char) for char in str(value)) + '"'


class QuotedExtension(Extension):
    """Registers the `quoted` filter."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["quoted"] = quoted
