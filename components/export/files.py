"""The trained model's files on the Export page: saved, reloaded in a fresh process and compared before
they are offered (also mid-run and after Stop), and the tutorial's save / discard / load / evaluate."""

from __future__ import annotations

import logging
import tempfile
import time
from typing import Any

import pandas as pd
import streamlit as st

from components.project import file_name_for
from components.text import md
from studio.i18n import _, keras_says, ngettext
from studio.io.model_files import FORMAT_NOTES, ExportReport, export_model_files, round_trip
from studio.training.job import status_text

log = logging.getLogger(__name__)

PREPARED = "export.state.prepared"  # dict: job_id, epochs, status, when, report, files {format: bytes}
ROUND_TRIP = "export.state.round_trip"  # dict: job_id, result or error
MIMES = {"keras": "application/zip", "h5": "application/x-hdf5"}
MAX_ROUND_TRIP_SAMPLES = 2000


def _epochs_done(job: Any) -> int:
    return len(job.log.epochs())


def prepare_files(job: Any) -> dict:
    """Save the job's model as .keras and .h5, check each in a fresh process; kept in session state."""
    basename = file_name_for(job.request.spec, "")
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="studio-export-") as folder:
        model = job.current_model()  # mid-run: a copy of the model as it stands in the training process
        if model is None:
            raise RuntimeError(_("the run has no model yet: try again once its first steps are done"))
        report = export_model_files(model, folder, basename, live=not job.active)
        files = {check.format: check.path.read_bytes() for check in report.files if check.ok}
    prepared = {
        "job_id": job.id,
        "epochs": _epochs_done(job),
        "status": job.status,
        "when": started,
        "report": report,
        "files": files,
        "basename": basename,
    }
    st.session_state[PREPARED] = prepared
    return prepared


def _render_report(prepared: dict, job: Any) -> None:
    report: ExportReport = prepared["report"]
    when = time.strftime("%H:%M:%S", time.localtime(prepared["when"]))
    stale = prepared["epochs"] != _epochs_done(job) or prepared["status"] != job.status
    saved = ngettext(
        "Saved at {when} after {count} epoch ({status}); checked in {seconds} s.",
        "Saved at {when} after {count} epochs ({status}); checked in {seconds} s.",
        prepared["epochs"],
    ).format(when=when, count=prepared["epochs"], status=status_text(prepared["status"]), seconds=f"{report.seconds:.1f}")
    st.caption(saved + (_(" The run has moved on since: save again for the model as it is now.") if stale else ""))
    for check in report.files:
        (st.success if check.ok else st.error)(md(check.describe()), icon=":material/verified:" if check.ok else ":material/error:")
        for warning in check.warnings:
            st.warning(_(".{format}: {warning}").format(format=check.format, warning=md(warning)))
    for note in report.notes:
        st.caption(_("Note: {note}").format(note=md(note)))
    columns = st.columns(max(1, len(prepared["files"])) + 1)
    for column, (fmt, data) in zip(columns, prepared["files"].items(), strict=False):
        column.download_button(
            _("Download .{format} ({size} KB)").format(format=fmt, size=f"{len(data) / 1024:,.0f}"),
            data,
            file_name=f"{prepared['basename']}.{fmt}",
            mime=MIMES.get(fmt),
            key=f"export.download.{fmt}",
            icon=":material/download:",
        )
    if not report.ok:
        st.caption(_("Only files that passed the check are offered."))


def _test_data(job: Any) -> tuple[list, list] | str:
    """The run's test arrays loaded again, or why they cannot be."""
    from studio.training.data import fit_to_model
    from studio.training.datasets import DataError, load_dataset

    request = job.request
    if not request.dataset_key:
        return _("The run trained on an uploaded file, which is not kept; the round trip needs its test data again.")
    try:
        dataset = load_dataset(request.dataset_key, seed=request.settings.seed, prefer_offline=request.prefer_offline)
        data = fit_to_model(dataset, job.model, list(request.spec.inputs), list(request.spec.outputs), request.settings.losses())
    except DataError as error:
        return _("The test data cannot be loaded again: {error}").format(error=error)
    return [a[:MAX_ROUND_TRIP_SAMPLES] for a in data.x_test], [a[:MAX_ROUND_TRIP_SAMPLES] for a in data.y_test]


def run_round_trip(job: Any, fmt: str) -> None:
    """Save, discard, load back and evaluate; the outcome is kept in session state."""
    data = _test_data(job)
    if isinstance(data, str):
        st.session_state[ROUND_TRIP] = {"job_id": job.id, "error": data}
        return
    try:
        result = round_trip(job.model, data[0], data[1], fmt=fmt)
    except Exception as error:  # noqa: BLE001 - Keras's reason is shown; the session goes on
        log.warning("Round trip of run %s failed: %s", job.run_id, error)
        st.session_state[ROUND_TRIP] = {"job_id": job.id, "error": keras_says(f"{type(error).__name__}: {error}")}
        return
    st.session_state[ROUND_TRIP] = {"job_id": job.id, "result": result, "format": fmt, "samples": len(data[0][0])}


def _render_round_trip(job: Any) -> None:
    st.markdown(_("**The tutorial's round trip** (section 1.3): `model.save(...)`, `del model`, `keras.models.load_model(...)`, evaluate."))
    if job.active:
        st.caption(_("Available when the run has ended (finished or stopped)."))
        return
    if not getattr(job.model, "compiled", False):
        st.caption(_("The model was never compiled, so it cannot be evaluated."))
        return
    columns = st.columns([1, 3])
    fmt = columns[0].radio(_("File"), ["keras", "h5"], horizontal=True, key="export.round_trip_format", format_func=lambda f: f".{f}")
    if columns[1].button(_("Save, discard, load back and evaluate"), key="export.round_trip", icon=":material/sync:"):
        with st.spinner(_("Saving, loading back and evaluating both models on the test data ...")):
            run_round_trip(job, fmt)
    outcome = st.session_state.get(ROUND_TRIP)
    if not outcome or outcome["job_id"] != job.id:
        return
    if "error" in outcome:
        st.error(md(outcome["error"]))
        return
    result = outcome["result"]
    table = pd.DataFrame({_("trained model"): result.before, _("loaded back"): result.after})
    st.dataframe(table, key="export.round_trip_table")
    for note in result.notes:
        st.caption(_("Note: {note}").format(note=md(note)))
    if result.equal:
        st.success(
            ngettext(
                "Equal: the model loaded back from .{format} has the same test metrics on {count} sample.",
                "Equal: the model loaded back from .{format} has the same test metrics on {count} samples.",
                outcome["samples"],
            ).format(format=outcome["format"], count=f"{outcome['samples']:,}")
        )
    else:
        st.error(_("The metrics differ: the saved file does not reproduce the trained model."))


def render_model_files(job: Any) -> None:
    """The verified .keras / .h5 downloads of this session's trained model, and the round trip."""
    st.subheader(_("Trained model"))
    if job is None or not job.has_model():
        st.info(_("No trained model in this session yet: train one on the Train page. Its .keras and .h5 files appear here, mid-run too."))
        return
    name = job.request.spec.name
    if job.active:
        done = _epochs_done(job)
        where = ngettext(
            "still training ({count} epoch done): the files hold the model as it stands",
            "still training ({count} epochs done): the files hold the model as it stands",
            done,
        ).format(count=done)
    else:
        where = status_text(job.status)
    st.caption(_("Model **{name}** from training run `{run}`: {where}.").format(name=md(name), run=job.run_id, where=where))
    st.caption(" · ".join(f".{fmt}: {_(note)}" for fmt, note in FORMAT_NOTES.items()))
    if st.button(_("Save and check .keras and .h5"), key="export.prepare", type="primary", icon=":material/save:"):
        with st.spinner(_("Saving, then reloading each file in a fresh Python process and comparing predictions ...")):
            try:
                prepare_files(job)
            except Exception as error:  # noqa: BLE001 - the reason is shown; the session goes on
                log.warning("Export of run %s failed: %s", job.run_id, error)
                st.error(_("The model could not be saved: {error}").format(error=md(keras_says(f"{type(error).__name__}: {error}"))))
    prepared = st.session_state.get(PREPARED)
    if prepared and prepared["job_id"] == job.id:
        _render_report(prepared, job)
    _render_round_trip(job)
