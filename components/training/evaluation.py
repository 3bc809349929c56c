"""Evaluation views after training: test metrics per output, confusion matrices, a grid of sample
predictions (wrong ones first), target vs prediction for image outputs, and the model downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.text import md, plotly_text
from studio.cli.train import save_run
from studio.training.evaluation import Evaluation, OutputEvaluation
from studio.training.job import TrainingJob

GRID_COLUMNS = 8


def metrics_table(evaluation: Evaluation) -> pd.DataFrame:
    """One row per output with its test loss and metrics."""
    rows = []
    for output in evaluation.outputs:
        row = {"output": output.name, "loss": output.loss, **output.metrics}
        if output.accuracy is not None and "accuracy" not in row:
            row["accuracy"] = output.accuracy
        rows.append(row)
    return pd.DataFrame(rows)


def confusion_figure(output: OutputEvaluation) -> go.Figure:
    """A heatmap of true (rows) against predicted (columns) classes."""
    names = [plotly_text(name) for name in output.class_names or [str(i) for i in range(len(output.confusion or []))]]
    figure = go.Figure(go.Heatmap(z=output.confusion, x=names, y=names, colorscale="Blues", texttemplate="%{z}", showscale=False))
    figure.update_layout(
        title=f"{plotly_text(output.name)}: confusion matrix",
        xaxis_title="predicted",
        yaxis_title="true",
        yaxis_autorange="reversed",
        xaxis={"type": "category"},
        yaxis={"type": "category"},
        height=420,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
    )
    return figure


def _label(output: OutputEvaluation, index: int) -> str:
    return output.class_names[index] if output.class_names and index < len(output.class_names) else str(index)


def _render_samples(output: OutputEvaluation) -> None:
    wrong = sum(1 for sample in output.samples if sample["true"] != sample["predicted"])
    st.caption(f"Sample predictions, wrong ones first ({wrong} wrong of {len(output.samples)} shown)")
    columns = st.columns(GRID_COLUMNS)
    for position, sample in enumerate(output.samples):
        with columns[position % GRID_COLUMNS]:
            mark = "✓" if sample["true"] == sample["predicted"] else "✗"
            predicted, true = md(_label(output, sample["predicted"])), md(_label(output, sample["true"]))
            caption = f"{mark} {predicted} ({sample['confidence']:.0%}), true {true}"
            if "image" in sample:
                st.image(sample["image"], caption=caption, width=72)
            else:
                st.caption(caption)


def _render_images(output: OutputEvaluation) -> None:
    st.caption("Target (top) and the model's output (bottom) for the first test samples")
    columns = st.columns(len(output.images) or 1)
    for column, pair in zip(columns, output.images, strict=False):
        with column:
            st.image(pair["target"], caption="target", width=72)
            st.image(pair["prediction"], caption=f"output (mse {pair['mse']:.3f})", width=72)


def render_evaluation(job: TrainingJob) -> None:
    """Everything the evaluation found, per output (head)."""
    evaluation = job.evaluation
    if evaluation is None:
        return
    st.subheader("Evaluation on the test set")
    data = job.dataset_summary
    st.caption(f"{evaluation.num_samples:,} test samples · {md(data.get('name', ''))} ({md(data.get('source', ''))})")
    st.dataframe(metrics_table(evaluation), hide_index=True, key="train.eval.metrics")
    for output in evaluation.outputs:
        if len(evaluation.outputs) > 1:
            head = f"**Head '{md(output.name)}'**"
            st.markdown(f"{head} · loss {output.loss:.4f}" if output.loss is not None else head)
        if output.confusion is not None:
            left, right = st.columns([2, 3])
            with left:
                st.plotly_chart(confusion_figure(output), key=f"train.eval.confusion.{output.name}", config={"displayModeBar": False})
            with right:
                _render_samples(output)
        elif output.images:
            _render_images(output)


@st.cache_data(show_spinner=False, max_entries=8)
def _export(job_id: str, _job: TrainingJob) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        save_run(_job, Path(folder))
        return {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir())}


def render_downloads(job: TrainingJob) -> None:
    """Download buttons for the trained model (.keras, .h5) and the run's history and record."""
    if job.model is None or job.active:
        return
    st.caption("For files checked by reloading them in a fresh process, use the **Export** page.")
    files = _export(job.id, job)
    mime = {"model.keras": "application/zip", "model.h5": "application/x-hdf5", "history.csv": "text/csv", "run.json": "application/json"}
    columns = st.columns(len(files))
    for column, (name, data) in zip(columns, files.items(), strict=False):
        column.download_button(f"Download {name}", data, file_name=name, mime=mime.get(name), key=f"train.download.{name}")
