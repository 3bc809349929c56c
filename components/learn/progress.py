"""The learner's progress in the session (which lessons are done) and the runs of this session a lesson compares with.

Progress is a list of lesson keys at ``PROGRESS``; the project file carries it (components/project.py saves and
restores it). Runs are read, never changed: the jobs this session started (the Train page's session keys).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

import streamlit as st

from studio import lessons
from studio.graph.presets import load_preset

log = logging.getLogger(__name__)

PROGRESS = "learn.progress"  # list[str]: keys of the lessons done, in lesson order
LESSON = "learn.lesson"  # str | None: the lesson open on the Learn page (None: the list of lessons)
DETECTED = "learn.detected"  # list[str]: lessons already marked done by themselves (unmarking one sticks)


def done() -> list[str]:
    """The lessons done in this session."""
    return lessons.normalize_progress(st.session_state.get(PROGRESS) or [])


def set_done(keys: Iterable[str]) -> None:
    """Replace the session's progress."""
    st.session_state[PROGRESS] = lessons.normalize_progress(keys)


def mark(key: str, is_done: bool = True) -> None:
    """Mark one lesson done (or not done)."""
    st.session_state[PROGRESS] = lessons.mark(done(), key, is_done)


def restore(data: object) -> None:
    """Add the progress read from a project file (its `progress` object) to the session's: what is done stays done."""
    if data is None:
        return
    set_done([*done(), *lessons.progress_from_data(data)])


def progress_data() -> dict | None:
    """The progress to save in a project file, or None when no lesson is done yet."""
    keys = done()
    return lessons.progress_to_data(keys) if keys else None


def open_lesson(key: str | None) -> None:
    """Callback: show one lesson (None: the list of lessons)."""
    st.session_state[LESSON] = key


def _accuracy(evaluation) -> float | None:
    outputs = getattr(evaluation, "outputs", None) or []
    if not outputs:
        return None
    first = outputs[0]
    value = first.metrics.get("accuracy", first.accuracy) if isinstance(first.metrics, dict) else first.accuracy
    return float(value) if isinstance(value, (int, float)) else None


def session_runs() -> list[lessons.RunResult]:
    """The finished, evaluated runs this session started (that the server still holds), as plain results."""
    if "components.training.jobs" not in sys.modules:  # no Train page ran in this process: no run to find
        return []
    from components.training.jobs import JOB_ID, OWNER_KEYS, job_registry
    from studio.training.datasets import OFFLINE_SAMPLE

    ids = {*(st.session_state.get(OWNER_KEYS) or {}), st.session_state.get(JOB_ID)}
    registry = job_registry()
    results = []
    for job_id in ids:
        job = registry.get(job_id) if job_id else None
        if job is None or job.active or job.evaluation is None:
            continue
        spec = job.request.spec
        summary = job.dataset_summary or {}
        results.append(
            lessons.RunResult(
                model_name=spec.name,
                inputs=tuple(spec.inputs),
                outputs=tuple(spec.outputs),
                finished=float(job.finished or 0.0),
                accuracy=_accuracy(job.evaluation),
                loss=job.evaluation.loss,
                offline_sample=summary.get("source") == OFFLINE_SAMPLE,
            )
        )
    return results


def preset_specs() -> dict:
    """Every lesson's main model, by preset key."""
    return {lesson.preset: load_preset(lesson.preset) for lesson in lessons.LESSONS}


def sync_with_runs(runs: list[lessons.RunResult] | None = None) -> list[str]:
    """Mark the lessons whose model was trained in this session; returns the lessons newly marked."""
    try:
        runs = session_runs() if runs is None else runs
        found = lessons.detected_done(runs, preset_specs()) if runs else []
    except Exception as error:  # noqa: BLE001 - progress detection must never break a page
        log.warning("Lesson progress detection failed: %s", error)
        return []
    seen = set(st.session_state.get(DETECTED) or [])
    new = [key for key in found if key not in seen]
    if new:
        st.session_state[DETECTED] = sorted(seen | set(new))
        set_done([*done(), *new])
    return new
