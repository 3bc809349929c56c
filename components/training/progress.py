"""Status of a training job: queue position, a progress bar with epoch, batch, samples/s and ETA,
which Keras backend trains it, on which device and why, and the final message (finished, stopped,
failed with its error)."""

from __future__ import annotations

import streamlit as st

from components.text import md
from components.training.settings import BACKEND_HELP
from studio.i18n import N_, _, ngettext
from studio.training.backends import backend_name
from studio.training.callbacks import LogSnapshot
from studio.training.job import FAILED, FINISHED, QUEUED, RUNNING, STOPPED, STOPPING, TrainingJob

# What a run is doing (Progress.phase is an id the job sets; these are shown).
PHASES = {
    "waiting": N_("Waiting ..."),
    "measuring the backends": N_("Measuring which backend trains this model faster (a few seconds, once per model) ..."),
    "starting the worker": N_("Starting the training process of its backend ..."),
    "building the model": N_("Building the model ..."),
    "loading data": N_("Loading data ..."),
    "training": N_("Training ..."),
    "evaluating": N_("Evaluating ..."),
    "saving the run": N_("Saving the run ..."),
    QUEUED: N_("Queued ..."),
    STOPPED: N_("Stopped ..."),
    FINISHED: N_("Finished ..."),
    FAILED: N_("Failed ..."),
}


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    value = max(0.0, value)
    return _("{seconds} s").format(seconds=f"{value:.0f}") if value < 90 else _("{minutes} min").format(minutes=f"{value / 60:.1f}")


def progress_text(job: TrainingJob, snapshot: LogSnapshot) -> str:
    """'Epoch 2/5 · batch 300/750 · 35,000 samples/s · ETA 12 s' (or the phase before training starts)."""
    progress = snapshot.progress
    if progress.phase != "training" or not progress.epochs:
        return _(PHASES[progress.phase]) if progress.phase in PHASES else f"{progress.phase} ..."
    return _("Epoch {epoch}/{epochs} · batch {step}/{steps} · {speed} samples/s · ETA {eta}").format(
        epoch=progress.epoch,
        epochs=progress.epochs,
        step=progress.step,
        steps=progress.steps_per_epoch,
        speed=f"{progress.samples_per_second:,.0f}",
        eta=_seconds(progress.eta_s),
    )


# Phases in which the job does not know its backend yet (in a worker process it is set once the worker is leased).
BACKEND_NOT_YET = ("waiting", "measuring the backends", "starting the worker", QUEUED)


def device_label(device: str | None) -> str:
    """'cpu' -> 'CPU'; 'gpu:<name>' -> 'GPU (<name>)'; unknown -> '—'."""
    if not device:
        return "—"
    if device == "cpu":
        return _("CPU")
    platform, _separator, name = device.partition(":")
    return f"{platform.upper()} ({name})" if name else platform.upper()


def backend_text(job: TrainingJob, snapshot: LogSnapshot) -> str | None:
    """'Backend: **JAX** on CPU · <why>', once the job knows its backend (None before, and for a run that never started)."""
    if job.status == QUEUED or snapshot.progress.phase in BACKEND_NOT_YET:
        return None
    if job.status not in (RUNNING, STOPPING) and not (snapshot.batches or snapshot.epochs):
        return None  # ended before training began: the backend fields were never set
    return _("Backend: **{backend}** on {device} · {reason}").format(
        backend=backend_name(job.backend), device=device_label(job.device), reason=md(job.backend_reason)
    )


def _queued_text(job: TrainingJob, queue_position: int | None) -> str:
    """Where a queued run stands: its place in line, how many train at once, and when it should start."""
    from components.training.jobs import job_registry

    registry = job_registry()
    place = _("Queued: number {position} in line.").format(position=queue_position or "?")
    at_once = ngettext(
        "One model trains at a time on this server.", "{count} models train at once on this server.", registry.workers
    ).format(count=registry.workers)
    wait = registry.estimated_wait(job.id)
    if wait is None:
        when = _("Yours starts when a run before it ends.")
    else:
        when = _("Yours should start in about {time} (from the length of recent runs).").format(time=_seconds(wait))
    return f"{place} {at_once} {when}"


def _render_backend(job: TrainingJob, snapshot: LogSnapshot) -> None:
    text = backend_text(job, snapshot)
    if text:
        st.caption(text, help=_(BACKEND_HELP))


def render_status(job: TrainingJob, snapshot: LogSnapshot, queue_position: int | None) -> None:
    """Draw the job's state; never raises for a job in any status."""
    status = job.status
    if status == QUEUED:
        st.info(_queued_text(job, queue_position), icon=":material/hourglass_top:")
        return
    if status in (RUNNING, STOPPING):
        text = progress_text(job, snapshot)
        label = text if status == RUNNING else _("Stopping after the current batch ... {progress}").format(progress=text)
        st.progress(snapshot.progress.fraction, text=label)
        _render_backend(job, snapshot)
        if job.steps_per_execution > 1:
            st.caption(
                _("{count} batches per compiled step (Keras `steps_per_execution`): the charts update per group.").format(
                    count=job.steps_per_execution
                )
            )
        return
    _render_backend(job, snapshot)
    progress = snapshot.progress
    done = len(job.log.epochs())
    summary = ngettext(" after {count} complete epoch", " after {count} complete epochs", done).format(count=done) if done else ""
    if status == STOPPED and progress.epochs and progress.step:
        summary = _(" at epoch {epoch}/{epochs}, batch {step}/{steps}").format(
            epoch=progress.epoch, epochs=progress.epochs, step=progress.step, steps=progress.steps_per_epoch
        )
    if status == FINISHED:
        extra = md(job.message) if job.message != FINISHED else ""
        st.success(_("Finished{summary}. {message}").format(summary=summary, message=extra), icon=":material/check_circle:")
    elif status == STOPPED:
        kept = _(" The model is kept as it was when it stopped.") if job.model is not None else ""
        st.warning(
            _("{message}{summary}.{kept}").format(message=md(job.message), summary=summary, kept=kept), icon=":material/stop_circle:"
        )
    elif status == FAILED:
        st.error(_("Training failed: {error}").format(error=md(job.error)), icon=":material/error:")
