"""Test-session settings."""

import os

# scikit-learn's estimator checks test array-API input only when SciPy's array-API support is
# on, and SciPy reads this once, at import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
