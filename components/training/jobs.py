"""The process-wide job registry (``st.cache_resource``) and this session's job: found again after a
reload through session state or the ``?job=`` query parameter, released when the session goes away."""

from __future__ import annotations

import os

import streamlit as st

from components.runs.store import run_recorder
from studio.training.job import TrainingJob, TrainingRequest
from studio.training.queue import JobRegistry

JOB_ID = "train.job_id"  # session state: id of this session's latest job
QUERY_JOB = "job"  # URL query parameter with the same id, so a reload finds the job
HEARTBEAT_VARIABLE = "KFS_TRAIN_HEARTBEAT_S"
DEFAULT_HEARTBEAT_S = 300.0  # a job whose page has not polled it for this long is stopped


def heartbeat_timeout() -> float:
    """Seconds without a poll after which a job is stopped (environment variable KFS_TRAIN_HEARTBEAT_S)."""
    text = os.environ.get(HEARTBEAT_VARIABLE, "")
    try:
        return max(1.0, float(text)) if text else DEFAULT_HEARTBEAT_S
    except ValueError:
        return DEFAULT_HEARTBEAT_S


@st.cache_resource(show_spinner=False)
def job_registry() -> JobRegistry:
    """The one registry of this process, shared by every session."""
    return JobRegistry()


class SessionJobs:
    """The ids of the jobs one browser session started or adopted; releases them when the session ends."""

    def __init__(self, registry: JobRegistry) -> None:
        self.registry = registry
        self.ids: set[str] = set()

    def release(self) -> None:
        """The session went away: its running jobs stop unless another page polls them soon."""
        for job_id in self.ids:
            job = self.registry.get(job_id)
            if job is not None and job.active:
                job.release_owner()


def _release(holder: SessionJobs) -> None:
    holder.release()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def session_jobs() -> SessionJobs:
    """This session's job ids (one object per browser session)."""
    return SessionJobs(job_registry())


def current_job() -> TrainingJob | None:
    """This session's job: from session state, else from ``?job=`` (a reload), else None."""
    registry = job_registry()
    job = registry.get(st.session_state.get(JOB_ID))
    if job is None:
        job = registry.get(st.query_params.get(QUERY_JOB))
        if job is not None:
            st.session_state[JOB_ID] = job.id
    if job is not None:
        session_jobs().ids.add(job.id)
        job.touch()
    return job


def start_job(request: TrainingRequest) -> TrainingJob:
    """Queue a run for this session and remember it (session state and URL); the job records its own run."""
    request.heartbeat_timeout_s = heartbeat_timeout()
    if request.observer is None:
        request.observer = run_recorder()
    job = job_registry().submit(request)
    st.session_state[JOB_ID] = job.id
    st.query_params[QUERY_JOB] = job.id
    session_jobs().ids.add(job.id)
    return job
