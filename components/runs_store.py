"""The run store of this process, and recording this server's finished training jobs in it (once each, by job id)."""

from __future__ import annotations

import logging

import streamlit as st

from studio.runs.store import JOB_STATUSES, RunStore, RunStoreError, record_job, runs_dir

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _store(folder: str) -> RunStore:
    return RunStore(folder)


def run_store() -> RunStore:
    """The store under the runs folder in force ($STUDIO_RUNS_DIR or runs/), opened once per process and folder."""
    return _store(str(runs_dir().resolve()))


def sync_finished_jobs(store: RunStore) -> list[str]:
    """Record every finished job of this server that is not in the store yet; returns the new run ids."""
    from components.training_jobs import job_registry

    recorded = []
    for job in job_registry().jobs():
        if job.status not in JOB_STATUSES:
            continue
        try:
            if store.was_deleted(job.id):
                continue
            if not store.has_run(job.id) or store.get_run(job.id).status == "running":
                if record_job(store, job):
                    recorded.append(job.id)
        except (RunStoreError, OSError) as error:
            log.warning("Job %s could not be recorded as a run: %s", job.id, error)
    return recorded
