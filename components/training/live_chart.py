"""Live training charts: one Plotly figure per (output, metric), train per step group and per epoch,
validation per epoch, x axis in epochs (fractional during an epoch)."""

from __future__ import annotations

from dataclasses import dataclass, field

import plotly.graph_objects as go
import streamlit as st

from studio.i18n import N_, _
from studio.training.callbacks import LogSnapshot

SKIPPED = {"epoch", "step", "global_step", "time", "wall", "epoch_time_s"}
# The series of a panel: stable ids (colours, order) with the legend text shown for each.
TRAIN_BATCH, TRAIN_EPOCH, VALIDATION_EPOCH = "train (per batch)", "train (per epoch)", "validation (per epoch)"
SERIES_NAMES = {
    TRAIN_BATCH: N_("train (per batch)"),
    TRAIN_EPOCH: N_("train (per epoch)"),
    VALIDATION_EPOCH: N_("validation (per epoch)"),
}
# Panel titles for the metrics Keras names (any other metric keeps its Keras name).
METRIC_TITLES = {
    "loss": N_("loss"),
    "accuracy": N_("accuracy"),
    "mean_absolute_error": N_("mean absolute error"),
    "mean_squared_error": N_("mean squared error"),
}


@dataclass
class Panel:
    """One chart: a title (in the language in use) and its series (series id -> (x, y, per-epoch markers?))."""

    key: str
    title: str
    series: dict[str, tuple[list[float], list[float], bool]] = field(default_factory=dict)


def split_metric(name: str, output_names: list[str]) -> tuple[str, str]:
    """``department_loss`` -> (``department``, ``loss``); ``loss``/``accuracy`` of one-output models -> ("", name)."""
    for output in sorted(output_names, key=len, reverse=True):
        if len(output_names) > 1 and name.startswith(output + "_"):
            return output, name[len(output) + 1 :]
    return "", name


def build_panels(snapshot: LogSnapshot, output_names: list[str]) -> list[Panel]:
    """Group the log into panels: total loss first, then every output's loss and metrics on their own."""
    steps = max(snapshot.progress.steps_per_epoch, 1)
    panels: dict[str, Panel] = {}

    def panel_for(metric: str) -> tuple[Panel, bool]:
        validation = metric.startswith("val_")
        base = metric[4:] if validation else metric
        output, name = split_metric(base, output_names)
        key = f"{output}:{name}"
        if key not in panels:
            shown = _(METRIC_TITLES[name]) if name in METRIC_TITLES else name
            if output:
                title = _("{output} · {metric}").format(output=output, metric=shown)
            else:
                title = _("loss (total)") if name == "loss" and len(output_names) > 1 else shown
            panels[key] = Panel(key, title)
        return panels[key], validation

    for record in snapshot.batches:
        x = (record["epoch"] - 1) + record["step"] / steps
        for metric, value in record.items():
            if metric in SKIPPED or metric.startswith("val_"):
                continue
            panel, _validation = panel_for(metric)
            xs, ys, _markers = panel.series.setdefault(TRAIN_BATCH, ([], [], False))
            xs.append(x)
            ys.append(value)
    for record in snapshot.epochs:
        for metric, value in record.items():
            if metric in SKIPPED:
                continue
            panel, validation = panel_for(metric)
            label = VALIDATION_EPOCH if validation else TRAIN_EPOCH
            xs, ys, _markers = panel.series.setdefault(label, ([], [], True))
            xs.append(float(record["epoch"]))
            ys.append(value)
    ordered = sorted(panels.values(), key=lambda p: (p.key != ":loss", p.key.split(":")[0], p.key.split(":")[1] != "loss", p.key))
    return ordered


COLOURS = {TRAIN_BATCH: "#9ecae1", TRAIN_EPOCH: "#1f77b4", VALIDATION_EPOCH: "#ff7f0e"}


def figure_for(panel: Panel, height: int = 290) -> go.Figure:
    """A Plotly figure for one panel."""
    figure = go.Figure()
    for name, (xs, ys, per_epoch) in panel.series.items():
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                name=_(SERIES_NAMES[name]) if name in SERIES_NAMES else name,
                mode="lines+markers" if per_epoch else "lines",
                line={"color": COLOURS.get(name), "width": 2 if per_epoch else 1.5},
                marker={"size": 7} if per_epoch else None,
            )
        )
    figure.update_layout(
        title={"text": panel.title, "font": {"size": 14}},
        height=height,
        margin={"l": 40, "r": 10, "t": 36, "b": 70},
        xaxis_title={"text": _("epoch"), "standoff": 4},
        legend={"orientation": "h", "y": -0.32, "yanchor": "top", "font": {"size": 10}},
        uirevision=panel.key,  # keep the user's zoom while points arrive
    )
    return figure


def render_live_charts(snapshot: LogSnapshot, output_names: list[str], key_prefix: str = "train.chart") -> int:
    """Draw every panel, two per row; returns how many points were drawn."""
    panels = build_panels(snapshot, output_names)
    if not panels:
        st.caption(_("The charts appear with the first batch."))
        return 0
    points = 0
    for row in range(0, len(panels), 2):
        columns = st.columns(2)
        for column, panel in zip(columns, panels[row : row + 2], strict=False):
            with column:
                st.plotly_chart(figure_for(panel), key=f"{key_prefix}.{panel.key}", config={"displayModeBar": False})
            points += sum(len(xs) for xs, _ys, _markers in panel.series.values())
    return points
