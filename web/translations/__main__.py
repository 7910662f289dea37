"""``python -m web.translations``: see :mod:`web.translations`."""

import sys

from web.translations import main

sys.exit(main())
