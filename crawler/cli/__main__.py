"""``python -m crawler.cli`` is ``finews``."""

import sys

from crawler.cli import main

sys.exit(main())
