"""The run store of this process, for reading (the Runs page) and for the recorders of new jobs.

The page only reads: each training job records its own run through the RunRecorder it is given
(see ``components.training.jobs.start_job``), so a run has exactly one writer.
"""

from __future__ import annotations

import streamlit as st

from studio.runs.compare import RunBackend, run_backend
from studio.runs.recorder import RunRecorder
from studio.runs.store import RunStore, RunStoreError, runs_dir


@st.cache_resource(show_spinner=False)
def _store(folder: str) -> RunStore:
    return RunStore(folder)


def run_store() -> RunStore:
    """The store under the runs folder in force ($STUDIO_RUNS_DIR or the user's data folder), opened once per process and folder."""
    return _store(str(runs_dir().resolve()))


def run_recorder() -> RunRecorder:
    """A new recorder for one training job's run, in the runs folder in force."""
    return RunRecorder(run_store())


@st.cache_data(show_spinner=False, max_entries=5000)
def _backend_of(folder: str, run_id: str) -> RunBackend:
    # A run's settings are written once, when it starts: what they say about its backend never changes.
    return run_backend(_store(folder).get_run(run_id).settings)


def run_backends(store: RunStore, run_ids: list[str]) -> dict[str, RunBackend]:
    """Run id -> the backend it trained on (read once per run; a run deleted meanwhile is left out)."""
    backends = {}
    for run_id in run_ids:
        try:
            backends[run_id] = _backend_of(str(store.root.resolve()), run_id)
        except RunStoreError:
            continue
    return backends
