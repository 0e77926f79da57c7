"""``python -m numpynn``: the command line (see :mod:`numpynn.cli`)."""

import sys

from .cli import main

sys.exit(main())
