"""Status of a training job: queue position, a progress bar with epoch, batch, samples/s and ETA,
and the final message (finished, stopped, failed with its error)."""

from __future__ import annotations

import streamlit as st

from components.text import md
from studio.training.callbacks import LogSnapshot
from studio.training.job import FAILED, FINISHED, QUEUED, RUNNING, STOPPED, STOPPING, TrainingJob


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    value = max(0.0, value)
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.1f} min"


def progress_text(job: TrainingJob, snapshot: LogSnapshot) -> str:
    """'Epoch 2/5 · batch 300/750 · 35,000 samples/s · ETA 12 s' (or the phase before training starts)."""
    progress = snapshot.progress
    if progress.phase != "training" or not progress.epochs:
        return f"{progress.phase.capitalize()} ..."
    return (
        f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.step}/{progress.steps_per_epoch} · "
        f"{progress.samples_per_second:,.0f} samples/s · ETA {_seconds(progress.eta_s)}"
    )


def render_status(job: TrainingJob, snapshot: LogSnapshot, queue_position: int | None) -> None:
    """Draw the job's state; never raises for a job in any status."""
    status = job.status
    if status == QUEUED:
        ahead = f"{queue_position} run(s) ahead of it" if queue_position else "waiting"
        st.info(
            f"Queued: position {queue_position or '?'} in line ({ahead}). One model trains at a time on this server; "
            "yours starts when the runs before it end.",
            icon=":material/hourglass_top:",
        )
        return
    if status in (RUNNING, STOPPING):
        label = (
            progress_text(job, snapshot) if status == RUNNING else f"Stopping after the current batch ... {progress_text(job, snapshot)}"
        )
        st.progress(snapshot.progress.fraction, text=label)
        if job.steps_per_execution > 1:
            st.caption(f"{job.steps_per_execution} batches per compiled step (Keras `steps_per_execution`): the charts update per group.")
        return
    progress = snapshot.progress
    done = len(job.log.epochs())
    summary = f" after {done} complete epoch(s)" if done else ""
    if status == STOPPED and progress.epochs and progress.step:
        summary = f" at epoch {progress.epoch}/{progress.epochs}, batch {progress.step}/{progress.steps_per_epoch}"
    if status == FINISHED:
        st.success(f"Finished{summary}. {md(job.message) if job.message != 'finished' else ''}", icon=":material/check_circle:")
    elif status == STOPPED:
        kept = " The model is kept as it was when it stopped." if job.model is not None else ""
        st.warning(f"{md(job.message)}{summary}.{kept}", icon=":material/stop_circle:")
    elif status == FAILED:
        st.error(f"Training failed: {md(job.error)}", icon=":material/error:")
