"""Evaluation views after training: test metrics per output, confusion matrices, a grid of sample
predictions (wrong ones first, with probabilities only where the output gives them: softmax applied for
display to a head trained on logits, raw scores for any other head without softmax), target vs prediction
for image outputs, and the model downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.text import md, plotly_text
from studio.cli.train import save_run
from studio.i18n import N_, _, current_language, ngettext
from studio.training.datasets import SOURCE_NAMES
from studio.training.evaluation import PROBABILITY, SCORE, SIGMOID, SOFTMAX, Evaluation, OutputEvaluation
from studio.training.job import TrainingJob

GRID_COLUMNS = 8
# What the sample grid says about its percentages, by OutputEvaluation.confidence.
CONFIDENCE_NOTES = {
    SOFTMAX: N_(
        "This output has no softmax: it gives scores (logits, `from_logits=True`). The percentages below are those scores "
        "turned into probabilities with softmax, for display only."
    ),
    SIGMOID: N_(
        "This output has no sigmoid: it gives a score (a logit, `from_logits=True`). The percentages below are that score "
        "turned into a probability with a sigmoid, for display only."
    ),
    SCORE: N_(
        "This output gives scores, not probabilities (no softmax, and the loss does not read it as logits): the numbers "
        "below are its raw scores. Tick **Logits** for this output, or end it in a softmax, to get probabilities."
    ),
}


def metrics_table(evaluation: Evaluation) -> pd.DataFrame:
    """One row per output with its test loss and metrics (the headers in the language in use; metrics keep Keras's names)."""
    rows = []
    for output in evaluation.outputs:
        row = {_("output"): output.name, _("loss"): output.loss, **output.metrics}
        if output.accuracy is not None and "accuracy" not in output.metrics:
            row[_("accuracy")] = output.accuracy
        rows.append(row)
    return pd.DataFrame(rows)


def confusion_figure(output: OutputEvaluation) -> go.Figure:
    """A heatmap of true (rows) against predicted (columns) classes."""
    names = [plotly_text(name) for name in output.class_names or [str(i) for i in range(len(output.confusion or []))]]
    figure = go.Figure(go.Heatmap(z=output.confusion, x=names, y=names, colorscale="Blues", texttemplate="%{z}", showscale=False))
    figure.update_layout(
        title=_("{name}: confusion matrix").format(name=plotly_text(output.name)),
        xaxis_title=_("predicted"),
        yaxis_title=_("true"),
        yaxis_autorange="reversed",
        xaxis={"type": "category"},
        yaxis={"type": "category"},
        height=420,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
    )
    return figure


def _label(output: OutputEvaluation, index: int) -> str:
    return output.class_names[index] if output.class_names and index < len(output.class_names) else str(index)


def confidence_text(output: OutputEvaluation, value: float) -> str:
    """A sample's confidence: a percentage when it is a probability (given or computed for display), else the raw score."""
    if output.confidence == SCORE:
        return _("score {value}").format(value=f"{value:.3g}")
    return f"{min(max(value, 0.0), 1.0):.0%}"


def sample_caption(output: OutputEvaluation, sample: dict) -> str:
    """'✓ 7 (98%), true 7' (or '✗ 1 (score 6.26), true 7' for an output without probabilities)."""
    mark = "✓" if sample["true"] == sample["predicted"] else "✗"
    predicted, true = md(_label(output, sample["predicted"])), md(_label(output, sample["true"]))
    return _("{mark} {predicted} ({confidence}), true {true}").format(
        mark=mark, predicted=predicted, confidence=confidence_text(output, sample["confidence"]), true=true
    )


def _render_samples(output: OutputEvaluation) -> None:
    wrong = sum(1 for sample in output.samples if sample["true"] != sample["predicted"])
    st.caption(_("Sample predictions, wrong ones first ({wrong} wrong of {shown} shown)").format(wrong=wrong, shown=len(output.samples)))
    if output.confidence != PROBABILITY:
        st.caption(_(CONFIDENCE_NOTES[output.confidence]))
    columns = st.columns(GRID_COLUMNS)
    for position, sample in enumerate(output.samples):
        with columns[position % GRID_COLUMNS]:
            caption = sample_caption(output, sample)
            if "image" in sample:
                st.image(sample["image"], caption=caption, width=72)
            else:
                st.caption(caption)


def _render_images(output: OutputEvaluation) -> None:
    st.caption(_("Target (top) and the model's output (bottom) for the first test samples"))
    columns = st.columns(len(output.images) or 1)
    for column, pair in zip(columns, output.images, strict=False):
        with column:
            st.image(pair["target"], caption=_("target"), width=72)
            st.image(pair["prediction"], caption=_("output (mse {mse})").format(mse=f"{pair['mse']:.3f}"), width=72)


def render_evaluation(job: TrainingJob) -> None:
    """Everything the evaluation found, per output (head)."""
    evaluation = job.evaluation
    if evaluation is None:
        return
    st.subheader(_("Evaluation on the test set"))
    data = job.dataset_summary
    source = _(SOURCE_NAMES.get(data.get("source", ""), data.get("source", "")))
    st.caption(
        ngettext("{count} test sample · {name} ({source})", "{count} test samples · {name} ({source})", evaluation.num_samples).format(
            count=f"{evaluation.num_samples:,}", name=md(data.get("name", "")), source=md(source)
        )
    )
    st.dataframe(metrics_table(evaluation), hide_index=True, key="train.eval.metrics")
    for output in evaluation.outputs:
        if len(evaluation.outputs) > 1:
            head = _("**Head '{name}'**").format(name=md(output.name))
            st.markdown(_("{head} · loss {loss}").format(head=head, loss=f"{output.loss:.4f}") if output.loss is not None else head)
        if output.confusion is not None:
            left, right = st.columns([2, 3])
            with left:
                st.plotly_chart(confusion_figure(output), key=f"train.eval.confusion.{output.name}", config={"displayModeBar": False})
            with right:
                _render_samples(output)
        elif output.images:
            _render_images(output)


@st.cache_data(show_spinner=False, max_entries=8)
def _export(job_id: str, language: str, _job: TrainingJob) -> dict[str, bytes]:
    """The run's files (run.json holds notes in the run's language; the key has the language all the same)."""
    with tempfile.TemporaryDirectory() as folder:
        save_run(_job, Path(folder))
        return {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir())}


def render_downloads(job: TrainingJob) -> None:
    """Download buttons for the trained model (.keras, .h5) and the run's history and record."""
    if job.model is None or job.active:
        return
    st.caption(_("For files checked by reloading them in a fresh process, use the **Export** page."))
    files = _export(job.id, current_language(), job)
    mime = {"model.keras": "application/zip", "model.h5": "application/x-hdf5", "history.csv": "text/csv", "run.json": "application/json"}
    columns = st.columns(len(files))
    for column, (name, data) in zip(columns, files.items(), strict=False):
        column.download_button(
            _("Download {name}").format(name=name), data, file_name=name, mime=mime.get(name), key=f"train.download.{name}"
        )
