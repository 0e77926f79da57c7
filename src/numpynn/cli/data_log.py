"""Where the datasets come from, on stderr: numpynn.datasets logs it at INFO."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def datasets_log(quiet: bool) -> Iterator[None]:
    """Show numpynn.datasets' INFO messages on stderr as 'numpynn: ...' (none if ``quiet``)."""
    logger = logging.getLogger("numpynn.datasets")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("numpynn: %(message)s"))
    previous = logger.level
    if not quiet:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
