"""Entry point: `python -m fact_rlhf STAGE --config FILE [--run-dir DIR] [--resume]`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
