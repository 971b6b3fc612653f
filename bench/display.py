"""Latency of the display controller: a call event to the strip frame and to the announcement.

See display/latency.py; prints one JSON object.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from display.latency import main

if __name__ == "__main__":
    sys.exit(main())
