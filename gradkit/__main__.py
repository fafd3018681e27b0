"""``python -m gradkit demo``: the same command line as the ``gradkit`` console script."""
from __future__ import annotations

import sys

from gradkit.cli import main

sys.exit(main())
