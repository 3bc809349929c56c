"""A class on one server: N browser sessions at once, each opening the Gallery, a preset in the Builder, one edit
and a short training; the server's CPU and memory per session and each step's latency.

Run: .venv/bin/python bench/bench_load.py [--sessions 1 10 20] [--epochs 1] [--no-train] [--settle S] [--idle-wait S]

For each N a fresh server (`streamlit run app.py`, offline data) is started and measured:
- memory (RSS of the server and its child processes, training workers included): idle (server up, no session),
  after every session opened the Gallery, loaded (all steps done, training finished), and after all sessions
  closed (polled for 60 s); and the server process alone, resident and unique (USS), idle / loaded / closed;
- server CPU seconds (user + system, children included) spent per session on each step;
- per-step latency over the sessions (p50 / p90 / max): Gallery first card, Builder open, edit, Train -> first chart
  point (the queue's wait included), Train -> run finished.
Chromium runs N pages in N browser contexts (own cookies, own Streamlit session) driven by Playwright's async API.
The browsers' own CPU is not the server's: only the server process tree is measured. Numbers are for one machine
and one moment: compare rows of one run (before/after) rather than runs of different days.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
IDLE = """() => !document.querySelector('[data-testid="stStatusWidget"]')"""
POINTS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
    .reduce((total, chart) => total + (chart.data || []).reduce((n, trace) => n + (trace.x || []).length, 0), 0)"""
TIMEOUT_MS = 600_000
STEPS = ("gallery", "builder", "edit", "first_point", "trained")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`streamlit run app.py` on a free port, with its process tree measured by psutil."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "STUDIO_OFFLINE": "1", "STUDIO_RUNS_DIR": str(folder / "runs"), "PYTHONPATH": str(ROOT)}
        python = ROOT / ".venv" / "bin" / "python"
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [str(python if python.exists() else sys.executable), "-m", "streamlit", "run", str(ROOT / "app.py"),
             "--server.headless", "true", "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=(folder / "server.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.ps = psutil.Process(self.process.pid)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        self.up_after = time.perf_counter() - self.started
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"the server did not start: {(folder / 'server.log').read_text()[-2000:]}")

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.ps, *self.ps.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss_mb(self) -> float:
        """Resident memory of the server and its children, in MB."""
        total = 0
        for process in self._tree():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total / 2**20

    def main_mb(self) -> tuple[float, float]:
        """The server process alone, in MB: resident (shared library pages included) and unique (USS: what
        closing it would give back; TensorFlow's libraries are shared with its worker process)."""
        try:
            full = self.ps.memory_full_info()
            return full.rss / 2**20, full.uss / 2**20
        except psutil.NoSuchProcess:
            return 0.0, 0.0

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) spent so far by the server, its children and its finished children."""
        times = self.ps.cpu_times()
        return (
            times.user
            + times.system
            + times.children_user
            + times.children_system
            + sum(child.cpu_times().user + child.cpu_times().system for child in self._tree()[1:])
        )

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def _idle(page) -> None:
    await page.wait_for_selector('[data-testid="stApp"]', timeout=TIMEOUT_MS)
    for _ in range(2):
        await page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
        await page.wait_for_timeout(300)
    await page.wait_for_function(IDLE, timeout=TIMEOUT_MS)


async def _gallery(page, url: str) -> None:
    await page.goto(f"{url}/gallery?lang=en")
    await page.wait_for_selector('[class*="st-key-gallery_card_"]', timeout=TIMEOUT_MS)


async def _builder(page, url: str) -> None:
    await _idle(page)
    await (
        page.locator('[class*="st-key-gallery-open-mnist_mlp"] button, [class*="st-key-gallery.open.mnist_mlp"] button')
        .or_(page.get_by_role("button", name="Open in builder").first)
        .first.click()
    )
    await page.wait_for_selector('[class*="st-key-builder-undo"], [class*="st-key-builder.undo"]', timeout=TIMEOUT_MS)
    await _idle(page)


async def _edit(page, url: str) -> None:
    await page.get_by_role("tab", name="Nodes", exact=True).first.click()
    await _idle(page)
    await page.locator('[class*="st-key-nodeok_dense"]').first.get_by_role("button", name="Edit").click()
    await _idle(page)
    units = page.locator('input[aria-label="units *"]')
    await units.fill("32")
    await page.get_by_role("button", name="Apply parameters").click()
    await _idle(page)


async def _train(page, url: str, epochs: int, marks: dict[str, float], settle: float) -> None:
    await page.locator('[data-testid="stSidebarNav"]').get_by_text("Train", exact=True).click()  # same session
    await _idle(page)
    field = page.get_by_label("Epochs", exact=True)
    await field.fill(str(epochs))
    await field.press("Enter")
    await _idle(page)
    await page.wait_for_timeout(settle * 1000)  # the student reads the page; its worker processes start meanwhile
    started = time.perf_counter()
    await page.get_by_test_id("stBaseButton-primary").filter(has_text="Train").click()
    await page.wait_for_function(f"() => ({POINTS})() >= 1", timeout=TIMEOUT_MS)
    marks["first_point"] = time.perf_counter() - started
    await page.get_by_text("Test accuracy", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    marks["trained"] = time.perf_counter() - started


async def _session(browser, url: str, number: int, barrier: dict, results: list, train: bool, epochs: int, settle: float) -> None:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    marks: dict[str, float] = {}
    for step, action in (("gallery", _gallery), ("builder", _builder), ("edit", _edit)):
        await barrier[step].wait()
        started = time.perf_counter()
        await action(page, url)
        marks[step] = time.perf_counter() - started
        barrier[f"{step}_done"].append(number)
    if train:
        await barrier["train"].wait()
        await _train(page, url, epochs, marks, settle)
    results.append(marks)
    barrier["contexts"].append(context)


def _percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"{statistics.median(ordered):.2f} / {p90:.2f} / {ordered[-1]:.2f}"


async def _measure(count: int, train: bool, epochs: int, settle: float, idle_wait: float) -> dict:
    from playwright.async_api import async_playwright

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    server = Server(folder)
    row: dict = {"sessions": count, "server_up_s": server.up_after}
    try:
        await asyncio.sleep(3)
        await asyncio.sleep(idle_wait)
        row["idle_mb"], row["idle_main"] = server.rss_mb(), server.main_mb()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            barrier = {name: asyncio.Event() for name in ("gallery", "builder", "edit", "train")}
            barrier.update({f"{name}_done": [] for name in ("gallery", "builder", "edit")}, contexts=[])
            results: list[dict] = []
            tasks = [asyncio.create_task(_session(browser, server.url, n, barrier, results, train, epochs, settle)) for n in range(count)]
            cpu = {}
            for step in ("gallery", "builder", "edit"):
                before = server.cpu_seconds()
                barrier[step].set()
                while len(barrier[f"{step}_done"]) < count:
                    await asyncio.sleep(0.1)
                    if any(task.done() and task.exception() for task in tasks):
                        raise next(task.exception() for task in tasks if task.done() and task.exception())
                cpu[step] = (server.cpu_seconds() - before) / count
                if step == "gallery":
                    row["after_gallery_mb"] = server.rss_mb()
            row["sessions_mb"], row["sessions_main"] = server.rss_mb(), server.main_mb()
            before = server.cpu_seconds()
            barrier["train"].set()
            await asyncio.gather(*tasks)
            cpu["train"] = (server.cpu_seconds() - before) / count
            row["loaded_mb"] = server.rss_mb()
            for context in barrier["contexts"]:
                await context.close()
            await browser.close()
        closed = server.rss_mb()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and closed - row["idle_mb"] > 50:
            await asyncio.sleep(2)
            closed = server.rss_mb()
        row["closed_mb"], row["closed_main"] = closed, server.main_mb()
        row["cpu"] = cpu
        row["latency"] = {step: _percentiles([marks[step] for marks in results if step in marks]) for step in STEPS}
    finally:
        server.stop()
    return row


def main() -> None:
    """Measure each session count on a fresh server and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 20])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--no-train", action="store_true", help="stop after the edit (memory with sessions open)")
    parser.add_argument("--settle", type=float, default=0.0, help="seconds on the Train page before pressing Train")
    parser.add_argument("--idle-wait", type=float, default=0.0, help="more seconds before 'idle' is measured")
    args = parser.parse_args()
    rows = [asyncio.run(_measure(count, not args.no_train, args.epochs, args.settle, args.idle_wait)) for count in args.sessions]
    print("\nmemory (MB, server + children): idle, after N Gallery views, N sessions after their edit, after training, after closing")
    print(f"{'N':>3} {'up s':>5} {'idle':>6} {'gallery':>8} {'sessions':>9} {'trained':>8} {'closed':>7}")
    for row in rows:
        print(f"{row['sessions']:>3} {row['server_up_s']:>5.1f} {row['idle_mb']:>6.0f} {row['after_gallery_mb']:>8.0f} "
              f"{row['sessions_mb']:>9.0f} {row.get('loaded_mb', 0):>8.0f} {row['closed_mb']:>7.0f}")  # fmt: skip
    print("\nthe server process alone (MB, resident / unique): idle, N sessions after their edit, after closing")
    for row in rows:
        cells = [f"{row[key][0]:.0f} / {row[key][1]:.0f}" for key in ("idle_main", "sessions_main", "closed_main")]
        print(f"{row['sessions']:>3} " + "   ".join(f"{cell:>11}" for cell in cells))
    print("\nserver CPU seconds per session, by step")
    print(f"{'N':>3} " + " ".join(f"{step:>9}" for step in ("gallery", "builder", "edit", "train")))
    for row in rows:
        print(f"{row['sessions']:>3} " + " ".join(f"{row['cpu'].get(step, 0):>9.2f}" for step in ("gallery", "builder", "edit", "train")))
    print("\nlatency per step over the sessions, seconds: p50 / p90 / max")
    for row in rows:
        print(f"N={row['sessions']}")
        for step in STEPS:
            print(f"  {step:<12} {row['latency'][step]}")


if __name__ == "__main__":
    main()
