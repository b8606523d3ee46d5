"""Train, gate and register a scikit-learn model with DVC and git tags."""

__version__ = "0.1.0"
