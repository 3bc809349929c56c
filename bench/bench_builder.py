"""How long one builder rerun takes after a parameter edit, per preset (server time, measured with AppTest).

Run: .venv/bin/python bench/bench_builder.py [--repeats 5] [preset ...]
Targets: <= 0.3 s for mnist_mlp, <= 1.5 s for vgg16_features. Also prints the display analysis
(shapes and counts without initialising weights) next to the full Keras build it replaces.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from components import state  # noqa: E402
from studio.graph.presets import load_preset, preset_names  # noqa: E402
from studio.model.analysis import analyze_for_display  # noqa: E402
from studio.model.build import analyze  # noqa: E402

TARGETS = {"mnist_mlp": 0.3, "vgg16_features": 1.5}
# The node whose parameter the bench edits, and which number field it changes.
EDITED = {
    "mnist_mlp": ("dense_1", "units"), "encoder": ("conv2d_1", "filters"), "decoder": ("conv2d_transpose_1", "filters"),
    "autoencoder": ("img", None), "multi_io": ("lstm", "units"), "shared_embedding": ("feat1", "output_dim"),
    "vgg16_features": ("vgg16", "classes"),
}


def _builder(key: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.session_state[state.SPEC] = load_preset(key)
    at.run()
    at.switch_page("pages/builder.py").run()
    node, _ = EDITED.get(key, (load_preset(key).calls[-1].id, None))
    at.session_state[state.SELECTED] = node
    at.session_state[state.RIGHT_TAB] = "Node"
    at.run()
    return at


def _edit_once(at: AppTest, key: str, step: int) -> float:
    """Change one parameter of the edited node, press Apply; the seconds the rerun took."""
    node, field = EDITED.get(key, (None, None))
    node = node or at.session_state[state.SELECTED]
    if field is not None:
        widget = at.number_input(key=f"builder.edit.{node}.param.{field}@{at.session_state[state.REVISION]}")
        widget.set_value(int(widget.value) + step)
    else:  # an Input: edit its shape text
        widget = at.text_input(key=f"builder.edit.{node}.param.shape@{at.session_state[state.REVISION]}")
        widget.set_value("28, 28, 1" if step % 2 == 0 else "28, 28, 1,")
    button = next(button for button in at.button if button.label == "Apply parameters")
    button.click()
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"{key}: the builder raised {at.exception[0].value}")
    return elapsed


def bench_preset(key: str, repeats: int) -> dict:
    """Rerun times after `repeats` parameter edits (each a new spec, so each rebuilds)."""
    at = _builder(key)
    times = [_edit_once(at, key, step) for step in range(1, repeats + 1)]
    spec = load_preset(key)
    started = time.perf_counter()
    analyze_for_display(spec)
    display = time.perf_counter() - started
    started = time.perf_counter()
    analyze(spec)
    full = time.perf_counter() - started
    return {"key": key, "median": statistics.median(times), "max": max(times), "display": display, "full": full}


def main() -> int:
    """Print one line per preset and whether the targets are met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", default=preset_names())
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    print(f"{'preset':<18} {'rerun median':>13} {'rerun max':>10} {'target':>7}   {'display analysis':>16} {'full build':>10}")
    met = True
    for key in args.presets:
        row = bench_preset(key, args.repeats)
        target = TARGETS.get(key)
        ok = target is None or row["median"] <= target
        met &= ok
        target_text = f"{target:.1f} s" if target else "-"
        print(
            f"{key:<18} {row['median']:>11.3f} s {row['max']:>8.3f} s {target_text:>7} {'ok' if ok else 'SLOW':>4}"
            f" {row['display']:>12.3f} s {row['full']:>8.3f} s",
            flush=True,
        )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
