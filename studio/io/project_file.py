"""The project file: a spec with its compile/fit settings, dataset choice and (optional) lesson progress, as JSON
that opens again in the builder. Reading one passes the gate: size and JSON depth before parsing, nesting of models and nodes after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from studio.gate import LimitExceeded, load_json
from studio.graph.checks import check_spec_limits
from studio.graph.spec import GraphSpec, Problem, SpecError, spec_from_dict
from studio.i18n import _

PROJECT_FORMAT = "keras-functional-studio-project/1"


@dataclass
class Project:
    """What a project file holds: the spec, compile/fit settings (plain data), the dataset choice and the
    Learn page's progress (``{"done": [lesson keys]}``; None in files saved before it existed)."""

    spec: GraphSpec
    settings: dict[str, Any] | None = None
    dataset: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None


def project_json(
    spec: GraphSpec, settings: Any = None, dataset: dict[str, Any] | str | None = None, progress: dict[str, Any] | None = None
) -> str:
    """A project file (JSON) that opens again in the builder: spec + settings + dataset choice (+ lesson progress,
    written only when given, so files without progress stay as they were)."""
    settings_data = settings.to_dict() if hasattr(settings, "to_dict") else settings
    dataset_data = {"key": dataset} if isinstance(dataset, str) else dataset
    data = {"format": PROJECT_FORMAT, "spec": spec.to_dict(), "settings": settings_data, "dataset": dataset_data}
    if progress is not None:
        data["progress"] = progress
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_project(text: str | bytes, source: str = "the project") -> Project:
    """A project file, or a bare spec JSON, -> :class:`Project`, within the limits (size, JSON depth, nesting of
    models, nodes); anything else raises SpecError saying why and naming `source`, the user's file."""
    try:
        data = load_json(text, source)
    except LimitExceeded as error:
        raise SpecError([Problem(None, "limit", str(error))]) from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SpecError(_("Not valid JSON ({error}); expected a project or spec file saved by this app").format(error=error)) from error
    if not isinstance(data, dict):
        raise SpecError(
            _("Not a project or spec file: it must be a JSON object (expected a JSON object with a spec). Received: {type}").format(
                type=type(data).__name__
            )
        )
    if data.get("format") != PROJECT_FORMAT:
        project = Project(spec_from_dict(data))
    else:
        for key in ("settings", "dataset", "progress"):
            if data.get(key) is not None and not isinstance(data[key], dict):
                message = _("Project file: `{key}` must be an object or null. Received: {type}")
                raise SpecError(message.format(key=key, type=type(data[key]).__name__))
        project = Project(spec_from_dict(data.get("spec")), data.get("settings"), data.get("dataset"), data.get("progress"))
    try:
        check_spec_limits(project.spec, source)
    except LimitExceeded as error:
        raise SpecError([Problem(None, "limit", str(error))]) from error
    return project
