"""A longer fuzzing run than CI's: the same hypothesis properties (tests/test_fuzz_*.py) with a bigger example budget.

Usage: .venv/bin/python bench/bench_fuzz.py [EXAMPLES]   (default 2000 per property; CI uses 40-100)
Prints pytest's summary; any failure shows hypothesis's smallest failing input.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the fuzz tests with KFS_FUZZ_EXAMPLES set; returns pytest's exit code."""
    examples = sys.argv[1] if len(sys.argv) > 1 else "2000"
    env = {**os.environ, "KFS_FUZZ_EXAMPLES": examples, "STUDIO_OFFLINE": "1"}
    files = sorted(str(path) for path in (ROOT / "tests").glob("test_fuzz_*.py"))
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
