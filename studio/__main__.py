"""``python -m studio``: the command line (see :mod:`studio.cli.main`)."""

import sys

from studio.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
