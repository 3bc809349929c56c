"""Browser fixtures shared by the end-to-end tests: one Streamlit server per script, headless Debian chromium.

- `streamlit_server(script)`: a context manager running `streamlit run <script>` on a free port.
- `app_url` (session): the app (`app.py`) served once for the whole test session; yields its base URL.
- `browser` (session) and `page` (per test, fresh context with downloads on, 1440x1000).
- `wait_for_app(page)`: wait until the app has drawn and stopped running.
Every test here is skipped, with the reason, when chromium or the playwright package is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_SECONDS = 120
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _python() -> str:
    return str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable


def _chromium_missing_reason() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -r requirements-dev.txt)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every browser test, saying why, when the browser cannot run here."""
    reason = _chromium_missing_reason()
    if reason is None:
        return
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(Path(__file__).resolve().parent):
            item.add_marker(marker)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(script: str | Path, log_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `streamlit run script` headless on a free port until the block ends; yields the base URL."""
    port = free_port()
    log_path = log_dir / f"streamlit-{Path(script).stem}-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                _python(), "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port", str(port),
                "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            ],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT), **(extra_env or {})},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + SERVER_START_SECONDS
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"streamlit did not start for {script}: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture(scope="session")
def start_streamlit():
    """The `streamlit_server` context manager, for test modules that serve a script of their own."""
    return streamlit_server


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole app (app.py), served once per test session."""
    with streamlit_server(ROOT / "app.py", tmp_path_factory.mktemp("app_server")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian chromium driven by the playwright package."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser page (own cookies and session) that accepts downloads."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(60_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def wait_for_app(page, timeout_ms: int = 90_000) -> None:
    """Wait until Streamlit has drawn the page's content and finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stElementContainer"]', timeout=timeout_ms)
    idle = """() => !document.querySelector('[data-testid="stStatusWidget"]')"""
    for _ in range(2):  # the running indicator can appear a moment after a rerun starts
        page.wait_for_function(idle, timeout=timeout_ms)
        page.wait_for_timeout(500)
    page.wait_for_function(idle, timeout=timeout_ms)
