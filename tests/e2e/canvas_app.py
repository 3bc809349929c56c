"""A tiny Streamlit app for the canvas browser tests: a preset (``?preset=``, ``empty`` for a new model, ``file`` for
the spec file ``?spec=``), the canvas, then what the tests read: the calls as JSON, the outputs, the parameter count,
the built model's merge inputs."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from components import state  # noqa: E402
from components.builder.canvas import render_canvas  # noqa: E402
from studio.graph.edits import empty_spec  # noqa: E402
from studio.graph.presets import load_preset  # noqa: E402
from studio.graph.spec import load_spec  # noqa: E402
from studio.model.analysis import param_counts  # noqa: E402
from studio.model.build import analyze, spec_key  # noqa: E402

st.set_page_config(page_title="Canvas test", layout="wide")
state.init_state()
preset = st.query_params.get("preset", "multi_io")
if st.session_state.get("preset") != preset:
    st.session_state.preset = preset
    opened = {"empty": empty_spec, "file": lambda: load_spec(st.query_params["spec"])}.get(preset, lambda: load_preset(preset))()
    state.replace_spec(opened, f"preset {preset}", record=False)
spec = state.current_spec()
results = st.session_state.setdefault("results", {})
key = spec_key(spec)
if key not in results:
    results.clear()
    results[key] = analyze(spec)
result = results[key]

if render_canvas(spec, result, key="canvas", height=int(st.query_params.get("height", 560))):
    st.rerun()
st.code(json.dumps({call.id: call.inputs for call in spec.calls}), language="json")
st.caption("outputs: " + json.dumps(spec.outputs))
st.caption(f"params: {param_counts(result).total:,}" + (" · builds" if result.ok else " · fails"))
st.caption("selected: " + str(st.session_state.get(state.SELECTED)))
merges = {}
if result.model is not None:  # the order Keras itself gives each merge layer's inputs
    for layer in result.model.layers:
        if layer.__class__.__name__ in ("Subtract", "Concatenate", "Dot"):
            merges[layer.name] = [node.operation.name for node in layer._inbound_nodes[0].parent_nodes]
st.caption("merges: " + json.dumps(merges))
