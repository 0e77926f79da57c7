"""Test-session settings."""

import os

from hypothesis import settings

# scikit-learn's estimator checks test array-API input only when SciPy's array-API support is
# on, and SciPy reads this once, at import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# Hypothesis: local runs explore new random examples and replay the failures they found from
# .hypothesis/; CI runs the same derandomized examples every time and keeps no database, so a
# result depends only on the commit. `.ci/run` sets HYPOTHESIS_PROFILE=ci; so does any CI env.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
