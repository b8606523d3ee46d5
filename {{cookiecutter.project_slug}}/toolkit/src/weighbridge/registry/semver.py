"""Semantic versions ``vMAJOR.MINOR.PATCH[-pre][+build]``: parse, order, bump."""

from functools import total_ordering

from .errors import RegistryError
from .tags import VERSION_RE

BUMP_PARTS = ("major", "minor", "patch")


@total_ordering
class SemVer:
    """An immutable version; equal and ordered by precedence (build metadata ignored).

    A plain class rather than a dataclass: importing ``dataclasses`` costs the
    read commands ~10 ms, a fiftieth of their time budget.
    """

    __slots__ = ("major", "minor", "patch", "prerelease", "build")

    def __init__(
        self,
        major: int,
        minor: int,
        patch: int,
        prerelease: str | None = None,
        build: str | None = None,
    ) -> None:
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.build = build

    def __repr__(self) -> str:
        return f"SemVer({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def _identity(self) -> tuple:
        return (self.major, self.minor, self.patch, self.prerelease)

    @classmethod
    def parse(cls, text: str) -> "SemVer":
        """Parse ``v1.2.3`` (the ``v`` may be left out); error names the value."""
        candidate = text if text.startswith("v") else f"v{text}"
        parts = candidate[1:].split(".")
        if len(parts) == 3 and all(p.isdigit() and (p == "0" or p[0] != "0") for p in parts):
            # fast path for the common vX.Y.Z: listing 10,000 versions parses each one
            return cls(int(parts[0]), int(parts[1]), int(parts[2]))
        match = VERSION_RE.match(candidate)
        if not match:
            raise RegistryError(
                f"invalid version {text!r}: expected semver vMAJOR.MINOR.PATCH, e.g. v1.2.0"
            )
        return cls(
            int(match["major"]),
            int(match["minor"]),
            int(match["patch"]),
            match["prerelease"],
            match["buildmetadata"],
        )

    @classmethod
    def is_valid(cls, text: str) -> bool:
        return bool(VERSION_RE.match(text))

    def __str__(self) -> str:
        pre = f"-{self.prerelease}" if self.prerelease else ""
        build = f"+{self.build}" if self.build else ""
        return f"v{self.major}.{self.minor}.{self.patch}{pre}{build}"

    def sort_key(self) -> tuple:
        # semver precedence: a release sorts after its pre-releases; build metadata is ignored
        if self.prerelease is None:
            return (self.major, self.minor, self.patch, 1, ())
        parts = tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease.split(".")
        )
        return (self.major, self.minor, self.patch, 0, parts)

    def __lt__(self, other: "SemVer") -> bool:
        return self.sort_key() < other.sort_key()

    def bump(self, part: str) -> "SemVer":
        if part == "major":
            return SemVer(self.major + 1, 0, 0)
        if part == "minor":
            return SemVer(self.major, self.minor + 1, 0)
        return SemVer(self.major, self.minor, self.patch + 1)


FIRST_VERSION = SemVer(1, 0, 0)
