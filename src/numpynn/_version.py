"""The version of numpynn: its one source (pyproject.toml reads it, files record it)."""

__version__ = "0.1.0"
