"""Type aliases shared by the package."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
Seed = int | np.random.Generator | None
