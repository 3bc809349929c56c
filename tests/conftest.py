"""Shared test set-up: the run history goes to a temporary folder, never the repo's runs/."""

import os
import tempfile

os.environ.setdefault("STUDIO_RUNS_DIR", tempfile.mkdtemp(prefix="studio-test-runs-"))
os.environ.setdefault("STUDIO_OFFLINE", "1")
