"""``python -m bot`` is the same as the ``mailcheck`` command."""

import sys

from bot.cli import main

sys.exit(main())
