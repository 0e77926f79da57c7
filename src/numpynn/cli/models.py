"""The names under which cli/report.py and the tests import what the library's
numpynn.trained now holds (to go once they import numpynn.trained)."""

from __future__ import annotations

from ..trained import class_probabilities, describe, n_parameters
from ..trained import read_metadata as user_metadata

__all__ = ["class_probabilities", "describe", "n_parameters", "user_metadata"]
