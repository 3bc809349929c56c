"""Runs: every training run kept (SQLite index + files); overlay curves, see what differs, reopen, train again on
the other backend (and compare the two), delete.

The page only reads the store: each training job records its own run (see components.training.jobs).
Other sessions' running runs are listed without live controls and without their job ids."""

# ruff: noqa: E402 - a page first makes sure it runs inside app.py, then imports the rest
from __future__ import annotations

import streamlit as st

from components.bootstrap import run_inside_app

run_inside_app()  # before the heavy imports below

from components import state
from components.runs.store import run_backends, run_store
from components.runs.view import (
    PICKED,
    RUN_SELECTED,
    pick_train_again,
    render_comparison,
    render_details,
    render_overlay,
    render_train_again_status,
    run_label,
    runs_table,
)
from components.text import code
from components.training.jobs import render_admin_access, run_owners
from studio.i18n import _
from studio.runs.compare import compare_runs
from studio.runs.store import RUNS_DIR_VARIABLE


def main() -> None:
    """The Runs page."""
    state.init_state()
    st.title(_("Runs"))
    store = run_store()
    st.caption(
        _(
            "Every training run is kept in {folder} (an SQLite index and one folder per run; set {variable} "
            "to use another folder). A run that was cut off by a crash shows as failed."
        ).format(folder=code(store.root), variable=code(RUNS_DIR_VARIABLE))
    )
    runs = store.list_runs()
    if not runs:
        st.info(_("No runs yet: train a model on the Train page and it appears here."))
        render_admin_access()
        return
    owners = run_owners()
    labels = {run.id: run_label(run) for run in runs}
    pick_train_again(labels)  # before the status, which forgets the run trained again once it has said how it ended
    render_train_again_status(labels)
    st.dataframe(runs_table(runs, owners, run_backends(store, list(labels))), hide_index=True, key="runs.table")
    st.session_state[PICKED] = [run_id for run_id in st.session_state.get(PICKED, []) if run_id in labels]
    picked = st.multiselect(
        _("Runs to compare (curves of all chosen runs; what differs between exactly two)"),
        list(labels), format_func=labels.get, key=PICKED, max_selections=8,
    )  # fmt: skip
    if picked:
        render_overlay([store.get_run(run_id) for run_id in picked])
    if len(picked) == 2:
        render_comparison(compare_runs(store, *picked))
    elif len(picked) > 2:
        st.caption(_("Choose exactly two runs to see what differs in architecture and settings."))
    st.divider()
    if st.session_state.get(RUN_SELECTED) not in labels:
        st.session_state[RUN_SELECTED] = runs[0].id
    selected = st.selectbox(_("Run"), list(labels), format_func=labels.get, key=RUN_SELECTED)
    render_details(store, store.get_run(selected), owners.get(selected))
    render_admin_access()


main()
