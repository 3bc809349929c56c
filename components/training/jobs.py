"""The process-wide job registry (``st.cache_resource``) and this session's jobs.

Jobs belong to the browser session that started them. Streamlit gives every browser tab its own
session, with its own ``st.session_state`` on the server; a reload of the tab starts a new session
(new session id, empty session state). So:

- starting a job makes a per-job *owner key* (``secrets.token_urlsafe``); the job keeps only its hash,
  the session keeps the key in session state, and the tab's address gets ``?job=<id>&key=<key>``;
- a session shows and stops only the jobs in its session state; a job named in the address is adopted
  only with its owner key (a reload of the same tab) or by a session that entered the teacher/admin
  token (``KFS_ADMIN_TOKEN``). Anything else gets one message that says neither whether the job
  exists nor whose it is;
- job ids are 128 random bits and never shown to other sessions: the Runs page knows runs by their
  public run id and says whose a running run is only through the run name its owner chose.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import streamlit as st

from components.runs.store import run_recorder
from studio.i18n import N_, _
from studio.training.job import TrainingJob, TrainingRequest
from studio.training.ownership import Ownership, admin_token_configured, is_admin_token, new_owner_key
from studio.training.queue import JobRegistry

JOB_ID = "train.job_id"  # session state: id of this session's latest job (set only for a job this session may control)
OWNER_KEYS = "train.owner_keys"  # session state: {job id: owner key} of the jobs this session started or reopened
ADMIN = "train.admin"  # session state: True once the teacher/admin token was entered in this session
WATCHED = "train.watched"  # session state: ids of other sessions' jobs this session watches with the admin token
ADMIN_TOKEN_INPUT = "train.admin_token"
QUERY_JOB = "job"  # URL query parameters: the job and its owner key, so that a reload of the tab finds the job
QUERY_KEY = "key"
HEARTBEAT_VARIABLE = "KFS_TRAIN_HEARTBEAT_S"
DEFAULT_HEARTBEAT_S = 300.0  # a job whose page has not polled it for this long is stopped
NOT_YOURS = N_(  # shown with _(NOT_YOURS)
    "This address names a training run that this browser session did not start, or one that is no longer on "
    "this server. Only the session that started a run can watch or stop it; its run name (if its owner gave one) "
    "is on the Runs page. Start a run of your own below."
)
YOU = N_("you")


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


def is_admin() -> bool:
    """Whether this session entered the teacher/admin token (and the server still has one)."""
    return bool(st.session_state.get(ADMIN)) and admin_token_configured()


def _owner_keys() -> dict[str, str]:
    return st.session_state.setdefault(OWNER_KEYS, {})


def _take(job: TrainingJob, owner_key: str | None) -> TrainingJob:
    """Make ``job`` this session's job (it may watch and stop it from now on); without the owner key, as the teacher."""
    st.session_state[JOB_ID] = job.id
    if owner_key:
        _owner_keys()[job.id] = owner_key
    elif job.ownership.key_digest:
        st.session_state.setdefault(WATCHED, set()).add(job.id)
    session_jobs().ids.add(job.id)
    return job


def is_mine(job: TrainingJob) -> bool:
    """Whether this session started or reopened the job (not: watches it with the admin token)."""
    if job.ownership.allows(_owner_keys().get(job.id)):
        return True
    return job.id == st.session_state.get(JOB_ID) and job.id not in st.session_state.get(WATCHED, set())


@dataclass(frozen=True)
class JobAccess:
    """This session's job (None: none yet) and whether the address named a job it may not see."""

    job: TrainingJob | None
    refused: bool = False


def job_access() -> JobAccess:
    """This session's job: from session state, or adopted from ``?job=&key=`` (a reload of the tab that started it)."""
    registry = job_registry()
    job = registry.get(st.session_state.get(JOB_ID))
    wanted = st.query_params.get(QUERY_JOB)
    refused = False
    if wanted and (job is None or wanted != job.id):
        named = registry.get(wanted)
        key = st.query_params.get(QUERY_KEY) or _owner_keys().get(wanted)
        if named is not None and (named.ownership.allows(key) or is_admin()):
            job = _take(named, key if named.ownership.allows(key) else None)
        else:
            refused = True
    if job is not None:
        session_jobs().ids.add(job.id)
        job.touch()
    return JobAccess(job, refused)


def current_job() -> TrainingJob | None:
    """This session's job, or None (never another session's)."""
    return job_access().job


def remember_in_url(job: TrainingJob) -> None:
    """Put the job and its owner key in this tab's address, so that a reload of the tab finds it again."""
    key = _owner_keys().get(job.id)
    if st.query_params.get(QUERY_JOB) != job.id:
        st.query_params[QUERY_JOB] = job.id
    if key and st.query_params.get(QUERY_KEY) != key:
        st.query_params[QUERY_KEY] = key
    elif not key and QUERY_KEY in st.query_params:
        del st.query_params[QUERY_KEY]


def start_job(request: TrainingRequest, run_name: str | None = None) -> TrainingJob:
    """Queue a run owned by this session (a new owner key), remember it (session state and address); the job records its own run.

    The job is made here, in this session's script thread, so it keeps this session's language (``current_language()``)
    and its worker thread reports in it."""
    request.heartbeat_timeout_s = heartbeat_timeout()
    if request.observer is None:
        request.observer = run_recorder()
    owner_key = new_owner_key()
    job = job_registry().submit(request, ownership=Ownership.for_key(owner_key, run_name))
    _take(job, owner_key)
    remember_in_url(job)
    return job


@dataclass(frozen=True)
class RunOwner:
    """What the Runs page may say about who a run of this server belongs to."""

    mine: bool
    name: str  # "you", "you · <run name>", the owner's run name, or "anonymous" (translated)
    active: bool


def run_owners() -> dict[str, RunOwner]:
    """Run id -> its owner as far as the owner allowed, for the runs of jobs this server still knows."""
    owners = {}
    for job in job_registry().jobs():
        mine = is_mine(job)
        if mine:
            name = _("{you} · {run_name}").format(you=_(YOU), run_name=job.ownership.run_name) if job.ownership.run_name else _(YOU)
        else:
            name = job.ownership.public_name
        owners[job.run_id] = RunOwner(mine=mine, name=name, active=job.active)
    return owners


def control_run(run_id: str) -> TrainingJob | None:
    """The job of this run if this session may watch and stop it (its own, or any with the admin token), else None."""
    job = job_registry().job_of_run(run_id)
    if job is None or not (is_mine(job) or is_admin()):
        return None
    return job


def watch_run(run_id: str) -> bool:
    """Make the job of this run the one the Train page shows (own runs, or any with the admin token)."""
    job = control_run(run_id)
    if job is None:
        return False
    _take(job, _owner_keys().get(job.id))
    return True


def _check_admin_token() -> None:
    token = st.session_state.get(ADMIN_TOKEN_INPUT, "")
    st.session_state[ADMIN] = is_admin_token(token)
    st.session_state[ADMIN_TOKEN_INPUT] = ""
    if not st.session_state[ADMIN]:
        st.session_state[f"{ADMIN}.failed"] = True


def render_admin_access() -> None:
    """Teacher/admin access (only when the server sets KFS_ADMIN_TOKEN): enter the token to watch and stop every run."""
    if not admin_token_configured():
        return
    with st.expander(_("Teacher access"), icon=":material/admin_panel_settings:"):
        if is_admin():
            st.caption(_("Teacher mode: you can watch and stop every run on this server."))
            if st.button(_("Leave teacher mode"), key="train.admin_leave"):
                st.session_state[ADMIN] = False
                st.rerun()
            return
        st.text_input(_("Teacher token (KFS_ADMIN_TOKEN)"), type="password", key=ADMIN_TOKEN_INPUT, on_change=_check_admin_token)
        if st.session_state.pop(f"{ADMIN}.failed", False):
            st.error(_("That is not the teacher token of this server."))
