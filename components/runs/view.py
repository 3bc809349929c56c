"""The Runs page's pieces: the run table, the overlaid curves of chosen runs, what differs between two
runs (with their backends and how long they took), and one run's details (its backend, files, reopen in
the builder, train it again on the other backend, delete; Stop only for this session's own running run,
or for any with the teacher token). Other sessions' running runs show no live controls and no job id:
only the run name their owner chose (or "anonymous")."""

from __future__ import annotations

import json
import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components import state
from components.runs.store import run_store
from components.text import md, plotly_text
from components.training.jobs import RunOwner, control_run, current_job, is_admin, start_job, watch_run
from components.training.progress import device_label, progress_text
from components.training.settings import BACKEND_HELP
from studio.graph.spec import SpecError, spec_from_dict
from studio.i18n import N_, _, ngettext
from studio.runs.compare import Difference, RunBackend, RunComparison, kind_label, rerun_data, rerun_settings, run_backend, run_speed
from studio.runs.history import history_csv
from studio.runs.store import RunRecord, RunStore, RunStoreError, RunSummary, run_error_text
from studio.training.backends import backend_name, check_choice
from studio.training.job import FAILED, TrainingRequest
from studio.training.settings import SettingsError, settings_from_dict

PICKED = "runs.pick"
METRIC = "runs.metric"
RUN_SELECTED = "runs.selected"
CONFIRM_DELETE = "runs.confirm_delete"
TRAIN_AGAIN = "runs.train_again.pending"  # session state: {"source", "run_id", "backend"} of the run this session trains again
TRAIN_RUN_NAME = "train.run_name"  # the Train page's run name (pages/training.py RUN_NAME), also used for runs started here
POLL_SECONDS = 1.0
STATUS_ICONS = {
    "completed": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
    "failed": ":material/error:",
    "running": ":material/hourglass_top:",
}
STATUS_NAMES = {"completed": N_("completed"), "stopped": N_("stopped"), "failed": N_("failed"), "running": N_("running")}
# The comparison's sections: (title, table key).
SECTIONS = ((N_("Architecture"), "architecture"), (N_("Settings"), "settings"), (N_("Data"), "data"))
# How long a run's fit took (studio.runs.compare.run_speed keeps stable keys), as rows of the comparison's table.
SPEED_LABELS = {
    "fit_seconds": N_("fit seconds"),
    "first_epoch_seconds": N_("first epoch seconds (with compiling)"),
    "later_epoch_seconds": N_("seconds per later epoch"),
}


def _when(seconds: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) if seconds else ""


def status_name(status: str) -> str:
    """A run's status in the session's language ('completed' -> '已完成'); an unknown one as it is."""
    return _(STATUS_NAMES[status]) if status in STATUS_NAMES else status


def run_label(run: RunSummary) -> str:
    """'mnist model · 2026-11-26 22:55:18 · completed · 3952d076' (plain text: the end of the id keeps labels unique)."""
    return f"{run.name} · {_when(run.started_at)} · {status_name(run.status)} · {run.id[-8:]}"


def _headline_metrics(run: RunSummary) -> dict[str, float]:
    metrics = run.final_metrics.get("metrics", {}) if isinstance(run.final_metrics.get("metrics"), dict) else {}
    values = {
        _("test loss"): run.final_metrics.get("loss"),
        **{_("test {metric}").format(metric=name): value for name, value in metrics.items()},
    }
    return {name: value for name, value in values.items() if isinstance(value, (int, float))}


def backend_label(backend: RunBackend | None) -> str:
    """'JAX · CPU' for a run that recorded its backend; '—' for one that did not (recorded before the choice existed)."""
    if backend is None or backend.backend is None:
        return "—"
    return f"{backend_name(backend.backend)} · {device_label(backend.device)}" if backend.device else backend_name(backend.backend)


def runs_table(
    runs: list[RunSummary], owners: dict[str, RunOwner] | None = None, backends: dict[str, RunBackend] | None = None
) -> pd.DataFrame:
    """One row per run: status, model, whose (as far as the owner allowed), data, epochs, time, backend, test metrics, error."""
    owners, backends = owners or {}, backends or {}
    rows = []
    for run in runs:
        row = {
            _("status"): status_name(run.status),
            _("model"): run.name,
            _("run by"): owners[run.id].name if run.id in owners else "",
            _("started"): _when(run.started_at),
            _("seconds"): round(run.duration_seconds, 1) if run.duration_seconds is not None else None,
            _("epochs"): run.epochs,
            _("backend"): backend_label(backends.get(run.id)),
            _("data"): run.dataset.get("name") or run.dataset.get("key") or "",
            **_headline_metrics(run),
            _("problem"): run.error or "",
            _("run id"): run.id,
        }
        rows.append(row)
    return pd.DataFrame(rows)


def overlay_figure(records: list[RunRecord], metric: str) -> go.Figure:
    """One line per run: the chosen metric by epoch."""
    figure = go.Figure()
    for record in records:
        points = [(row["epoch"], row.get(metric)) for row in record.history if row.get(metric) is not None]
        if points:
            epochs, values = zip(*points, strict=True)
            figure.add_trace(go.Scatter(x=list(epochs), y=list(values), mode="lines+markers", name=plotly_text(run_label(record))))
    figure.update_layout(
        xaxis_title=_("epoch"),
        yaxis_title=plotly_text(metric),
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h"},
    )
    return figure


def render_overlay(records: list[RunRecord]) -> None:
    """A metric picker and the chosen runs' curves in one chart."""
    names = sorted({key for record in records for row in record.history for key in row if key != "epoch"})
    if not names:
        st.caption(_("The chosen runs have no per-epoch history yet."))
        return
    default = names.index("loss") if "loss" in names else 0
    metric = st.selectbox(_("Metric"), names, index=default, key=METRIC)
    st.plotly_chart(overlay_figure(records, metric), key="runs.chart", config={"displayModeBar": False})


def differences_table(differences: list[Difference]) -> pd.DataFrame:
    """Differences as rows: where, what, run A, run B (values as JSON text)."""
    return pd.DataFrame(
        [
            {
                _("where"): d.where,
                _("what"): kind_label(d.kind),
                _("run A"): json.dumps(d.before, default=str),
                _("run B"): json.dumps(d.after, default=str),
            }
            for d in differences
        ]
    )


def comparison_numbers(first: RunRecord, second: RunRecord) -> pd.DataFrame:
    """Test metrics and how long the fit took, run A against run B (rows only for what either run has)."""
    columns = {}
    for name, record in (("A", first), ("B", second)):
        speed = {_(SPEED_LABELS[key]): value for key, value in run_speed(record).items() if key in SPEED_LABELS}
        columns[name] = {**_headline_metrics(record), **speed}
    return pd.DataFrame(columns)


def render_comparison(comparison: RunComparison) -> None:
    """What differs between two runs: architecture (by layer id), settings, data, and the test metrics and fit times."""
    st.subheader(_("What differs"))
    first, second = (backend_label(run_backend(record.settings)) for record in (comparison.first, comparison.second))
    st.caption(f"A: {md(run_label(comparison.first))} · {md(first)}  \nB: {md(run_label(comparison.second))} · {md(second)}")
    found = {"architecture": comparison.architecture, "settings": comparison.settings, "data": comparison.dataset}
    for title, name in SECTIONS:
        differences = found[name]
        if differences:
            count = ngettext("{count} difference", "{count} differences", len(differences)).format(count=f"{len(differences):,}")
            st.markdown(f"**{_(title)}** · {count}")
            st.dataframe(differences_table(differences), hide_index=True, key=f"runs.diff.{name}")
        else:
            st.markdown(_("**{section}** · the same").format(section=_(title)))
    numbers = comparison_numbers(comparison.first, comparison.second)
    if not numbers.empty:
        st.dataframe(numbers, key="runs.diff.metrics")


def _open_in_builder(record: RunRecord) -> None:
    try:
        spec = spec_from_dict(record.spec)
    except SpecError as error:
        state.notify(_("Run {run} cannot be opened: its spec is not valid ({error})").format(run=record.id, error=error), "error")
        return
    state.replace_spec(spec, _("Opened the model of run {run}").format(run=record.id), source=f"run {record.id}")
    state.notify(_("Opened '{name}' from run {run} in the builder.").format(name=spec.name, run=record.id))


def _delete(store: RunStore, run_id: str) -> None:
    store.delete_run(run_id)
    st.session_state[RUN_SELECTED] = None
    st.session_state[CONFIRM_DELETE] = False
    state.notify(_("Deleted run {run}.").format(run=run_id), "info")


def _stop(run_id: str) -> None:
    job = control_run(run_id)
    if job is not None:
        state.notify(job.stop(_("Stopped from the Runs page") if not is_admin() else _("Stopped by the teacher")), "info")


def render_live_controls(record: RunRecord, owner: RunOwner | None) -> bool:
    """For a running run: whose it is and, for this session's own run (or with the teacher token), Watch and Stop.
    Returns whether this session may change the run (delete it)."""
    if record.status != "running":
        return True
    job = control_run(record.id)
    if owner is None:
        st.caption(_("Running in a process this server does not control (the command line, or a server started earlier)."))
        return False
    if job is None:
        st.info(
            _("Running in another browser session (run by: {owner}). Only that session can watch or stop it.").format(owner=md(owner.name)),
            icon=":material/lock:",
        )
        return False
    columns = st.columns([2, 1, 3])
    if columns[0].button(_("Watch on the Train page"), key="runs.watch", icon=":material/monitoring:"):
        watch_run(record.id)
        try:
            st.switch_page(state.PAGES["training"])
        except Exception:  # noqa: BLE001 - the page runs on its own (tests) without the navigation
            st.success(_("The run is the Train page's run now."))
    columns[1].button(_("Stop"), key="runs.stop", on_click=_stop, args=(record.id,), icon=":material/stop:")
    if owner.mine:
        columns[2].caption(_("Running (your run)."))
    else:
        columns[2].caption(_("Running (run by: {owner} · teacher mode).").format(owner=md(owner.name)))
    return owner.mine


def backend_sentence(backend: RunBackend) -> str:
    """'Backend: **JAX** on CPU · <why>' for a run, or that its record does not say."""
    if backend.backend is None:
        return _("Backend: not recorded for this run (it trained before the backend could be chosen, or in the app's own process).")
    return _("Backend: **{backend}** on {device} · {reason}").format(
        backend=backend_name(backend.backend),
        device=device_label(backend.device),
        reason=md(_(backend.reason) if backend.reason else "—"),  # a fixed reason reads in the page's language
    )


def _train_again(run_id: str, backend: str) -> None:
    """Callback: queue the run's spec, settings and data again with only the backend changed (this session's run)."""
    job = current_job()
    if job is not None and job.active:
        state.notify(_("A run of this session is still going: stop it or wait for it to finish, then train again."), "warning")
        return
    try:
        record = run_store().get_run(run_id)
        spec = spec_from_dict(record.spec)
        settings = settings_from_dict(rerun_settings(record.settings, backend))
    except (RunStoreError, SpecError, SettingsError) as error:
        state.notify(_("Run {run} cannot be trained again: {error}").format(run=run_id, error=error), "error")
        return
    data = rerun_data(record.dataset)
    request = TrainingRequest(spec, settings, dataset_key=data.key, prefer_offline=data.prefer_offline)
    job = start_job(request, run_name=st.session_state.get(TRAIN_RUN_NAME))
    st.session_state[TRAIN_AGAIN] = {"source": run_id, "run_id": job.run_id, "backend": backend}
    state.notify(
        _("Training run {run} again on {backend}: both runs are compared below once the new one starts.").format(
            run=run_id, backend=backend_name(backend)
        ),
        "info",
    )


def _train_again_refusal(record: RunRecord, backend: str) -> str | None:
    """Why this run cannot be trained again on ``backend`` now (not installed, uploaded data, a run going), or None."""
    problem = check_choice(backend)
    if problem:
        return problem
    if not rerun_data(record.dataset).available:
        return _("Its data was an uploaded file, which is not kept: train it on the other backend from the Train page instead.")
    job = current_job()
    if job is not None and job.active:
        return _("A run of this session is still going: stop it or wait for it to finish, then train again.")
    return None


def render_train_again(record: RunRecord) -> None:
    """A button that trains this run again on the other backend (same spec, settings and data), or why it cannot."""
    backend = run_backend(record.settings)
    if record.status == "running" or backend.other is None:
        return  # still training, or a run that does not say which backend trained it (see backend_sentence)
    reason = _train_again_refusal(record, backend.other)
    st.button(
        _("Train again on {backend}").format(backend=backend_name(backend.other)),
        key="runs.train_again",
        on_click=_train_again,
        args=(record.id, backend.other),
        disabled=reason is not None,
        icon=":material/compare_arrows:",
        help=_("Same model, settings and data; only the backend changes. Both runs are then compared on this page. {about}").format(
            about=_(BACKEND_HELP)
        ),
    )
    if reason:
        st.caption(md(reason))


def pick_train_again(labels: dict[str, str]) -> None:
    """Once the run trained again is recorded, choose it and its source for the comparison (call before the picker)."""
    pending = st.session_state.get(TRAIN_AGAIN)
    if pending and not pending.get("picked") and pending["run_id"] in labels:
        st.session_state[PICKED] = [run_id for run_id in (pending["source"], pending["run_id"]) if run_id in labels]
        pending["picked"] = True


def render_train_again_status(labels: dict[str, str]) -> None:
    """How the run this session trains again is doing; the page is drawn again when it is recorded and when it ends."""
    pending = st.session_state.get(TRAIN_AGAIN)
    if not pending:
        return
    run_id, recorded = pending["run_id"], pending["run_id"] in labels
    job = control_run(run_id)
    if job is None:
        st.session_state.pop(TRAIN_AGAIN, None)
        return
    was_active = job.active

    @st.fragment(run_every=POLL_SECONDS if was_active else None)
    def live() -> None:
        current = control_run(run_id)
        if current is None:
            return
        current.touch()
        backend = backend_name(pending["backend"])
        if current.active:
            st.info(
                _("Training run {run} again on {backend}: {progress}").format(
                    run=pending["source"], backend=backend, progress=progress_text(current, current.snapshot())
                ),
                icon=":material/compare_arrows:",
            )
            if not recorded and run_store().has_run(run_id):
                st.rerun()  # the whole page: the new run joins the list and the comparison
        elif was_active:
            st.rerun()
        elif current.status == FAILED:
            st.error(
                _("Training run {run} again on {backend} failed: {error}").format(
                    run=pending["source"], backend=backend, error=md(current.error)
                )
            )
        else:
            st.success(
                _("Trained run {run} again on {backend}: the two runs are compared below.").format(run=pending["source"], backend=backend),
                icon=":material/check_circle:",
            )

    live()
    if not was_active:
        st.session_state.pop(TRAIN_AGAIN, None)  # said once


def render_details(store: RunStore, record: RunRecord, owner: RunOwner | None = None) -> None:
    """One run: status, problem, backend, files to download, reopen in the builder, train again on the other backend,
    delete (live controls only for its owner)."""
    epochs = ngettext("{count} epoch", "{count} epochs", record.epochs or 0).format(count=record.epochs or 0)
    st.markdown(f"{STATUS_ICONS.get(record.status, '')} **{md(record.name)}** · {status_name(record.status)} · {epochs} · `{record.id}`")
    if record.error:
        st.error(md(run_error_text(record.error)))
    st.caption(backend_sentence(run_backend(record.settings)), help=_(BACKEND_HELP))
    may_change = render_live_controls(record, owner)
    render_train_again(record)
    columns = st.columns(4)
    if columns[0].button(_("Open in builder"), key="runs.open", icon=":material/account_tree:"):
        _open_in_builder(record)
        try:
            st.switch_page(state.PAGES["builder"])
        except Exception:  # noqa: BLE001 - the page runs on its own (tests) without the navigation
            st.success(_("The model is open in the builder."))
    columns[1].download_button(
        _("History (CSV)"), history_csv(record.history), file_name=f"history-{record.id}.csv", mime="text/csv", key="runs.history_csv"
    )
    for column, (label, file_name) in zip(columns[2:], sorted(record.model_files.items()), strict=False):
        path = store.run_folder(record.id) / file_name
        if path.exists():
            column.download_button(
                _("Model .{format}").format(format=label), path.read_bytes(), file_name=file_name, key=f"runs.model.{label}"
            )
    with st.expander(_("Settings and data")):
        st.json({"settings": record.settings, "dataset": record.dataset, "final metrics": record.final_metrics}, expanded=False)
    if not may_change:
        return
    confirm = st.checkbox(_("Yes, delete this run and its files"), key=CONFIRM_DELETE)
    st.button(_("Delete run"), key="runs.delete", disabled=not confirm, on_click=_delete, args=(store, record.id), icon=":material/delete:")
