"""`python -m client_sync.cli`: the same as the `pendamping` console script."""

from __future__ import annotations

import sys

from client_sync.cli import main

if __name__ == "__main__":
    sys.exit(main())
