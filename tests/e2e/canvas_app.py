"""A tiny Streamlit app for the canvas browser test: one preset (``?preset=``), the palette, the canvas, the calls as JSON."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from components import state  # noqa: E402
from components.builder.canvas import render_canvas, render_palette  # noqa: E402
from studio.graph.presets import load_preset  # noqa: E402
from studio.model.build import analyze, spec_key  # noqa: E402

st.set_page_config(page_title="Canvas test", layout="wide")
state.init_state()
preset = st.query_params.get("preset", "multi_io")
if st.session_state.get("preset") != preset:
    st.session_state.preset = preset
    state.replace_spec(load_preset(preset), f"preset {preset}", record=False)
spec = state.current_spec()
results = st.session_state.setdefault("results", {})
key = spec_key(spec)
if key not in results:
    results.clear()
    results[key] = analyze(spec)
result = results[key]

if render_palette(spec, key="palette", canvas_key="canvas"):
    st.rerun()
if render_canvas(spec, result, key="canvas", height=int(st.query_params.get("height", 560))):
    st.rerun()
st.code(json.dumps({call.id: call.inputs for call in spec.calls}), language="json")
st.caption("outputs: " + json.dumps(spec.outputs))
