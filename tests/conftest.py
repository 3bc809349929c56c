"""Shared test set-up: the run history goes to a temporary folder, never the repo's runs/; and every AppTest run
fails its test when a page caught an unexpected error (pages keep going for the user, so `at.exception`
alone would never see it). Mark a test `expected_app_failure` when the failure is what it checks."""

import os
import tempfile

import pytest

os.environ.setdefault("STUDIO_RUNS_DIR", tempfile.mkdtemp(prefix="studio-test-runs-"))
os.environ.setdefault("STUDIO_OFFLINE", "1")
os.environ.setdefault("STUDIO_CACHE_DIR", tempfile.mkdtemp(prefix="studio-test-cache-"))  # worker logs, measurements
# Jobs train in TensorFlow workers unless a test asks for another backend: measuring both backends for every model
# would double the suite; tests/test_training_backends.py checks "fastest" and JAX.
os.environ.setdefault("KFS_TRAINING_BACKEND", "tensorflow")

FAILURES_KEY = "studio.failures"  # components.state.FAILURES (not imported here: it would load Streamlit for every test)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of tests that provoke a page failure on purpose."""
    config.addinivalue_line("markers", "expected_app_failure: the test provokes a caught page failure on purpose")


@pytest.fixture(autouse=True)
def _caught_page_failures_fail_the_test(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrap AppTest.run: after each run, any failure a page recorded in the session fails the test."""
    if request.node.get_closest_marker("expected_app_failure"):
        return
    try:
        from streamlit.testing.v1 import AppTest
    except ImportError:
        return
    original = AppTest.run

    def run_and_check(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        failures = result.session_state[FAILURES_KEY] if FAILURES_KEY in result.session_state else []
        assert not failures, f"a page caught an unexpected error: {failures}"
        return result

    monkeypatch.setattr(AppTest, "run", run_and_check)
