"""The registry's one-line user error."""

from ..errors import ProjectError


class RegistryError(ProjectError):
    """A refusal or bad input: printed as one ``error: …`` line, exit non-zero."""
