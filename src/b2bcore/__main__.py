"""``python -m b2bcore``: the same as the ``b2bcore`` console script."""

import sys

from b2bcore.cli import main

sys.exit(main())
