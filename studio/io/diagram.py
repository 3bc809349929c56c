"""Model diagrams: Keras's own DOT drawing for a model that builds, a spec drawing marking the problems
of one that does not, and PNG/SVG rendering through Graphviz's ``dot`` program.

The spec drawing (:func:`spec_dot`) shows one box per call, headed by the call id (always shown, as
problems name it); of the options it follows ``show_shapes``, ``show_layer_activations``,
``show_dtype`` (when the config names one), ``show_trainable``, ``rankdir`` and ``dpi``; nested models
stay one box (``expand_nested`` applies to Keras's drawing only).
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import keras

from studio.graph.checks import check_structure
from studio.graph.shapes import shapes_text
from studio.graph.spec import GraphSpec, LayerSpec, Problem, split_ref
from studio.i18n import N_, _, ngettext
from studio.model.build import BuildResult, analyze

FORMATS = ("dot", "png", "svg")
RANKDIRS = ("TB", "LR")
INSTALL_HINT = N_(
    "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or `winget install graphviz` (Windows)"
)
RENDER_TIMEOUT_SECONDS = 120
FAILED_FILL = "#ffd6d6"
FAILED_BORDER = "#c92a2a"
NOT_BUILT_FILL = "#eeeeee"
SHARED_FILLS = ("#cfe2ff", "#d3f9d8", "#fff3bf", "#e5dbff", "#ffe8cc", "#c5f6fa")
_WRAP_WIDTH = 48
_MAX_PROBLEM_LINES = 4
_MAX_SHAPES_SHOWN = 3


class DiagramError(Exception):
    """A diagram that cannot be made: Graphviz missing or failing, or an unknown format."""


@dataclass(frozen=True)
class DiagramOptions:
    """What a diagram shows; the fields are the keyword arguments of ``keras.utils.model_to_dot``."""

    show_shapes: bool = True
    show_dtype: bool = False
    show_layer_names: bool = True
    show_layer_activations: bool = False
    show_trainable: bool = False
    expand_nested: bool = False
    rankdir: str = "TB"
    dpi: int = 72

    def __post_init__(self) -> None:
        if self.rankdir not in RANKDIRS:
            raise ValueError(f"DiagramOptions.rankdir must be one of {', '.join(RANKDIRS)}. Received: {self.rankdir!r}")
        if isinstance(self.dpi, bool) or not isinstance(self.dpi, int) or self.dpi <= 0:
            raise ValueError(f"DiagramOptions.dpi must be a positive integer. Received: {self.dpi!r}")


DEFAULT_OPTIONS = DiagramOptions()


def graphviz_available() -> bool:
    """Whether Graphviz's ``dot`` program is on the PATH (needed for PNG and SVG, not for DOT text)."""
    return shutil.which("dot") is not None


def model_dot(model: keras.Model, options: DiagramOptions = DEFAULT_OPTIONS) -> str:
    """DOT text of a built model, drawn by ``keras.utils.model_to_dot`` (pydot only, no Graphviz)."""
    return keras.utils.model_to_dot(model, **dataclasses.asdict(options)).to_string()


def _quote(lines: list[str] | str) -> str:
    """A DOT double-quoted string; a list becomes centred lines."""
    if isinstance(lines, str):
        lines = lines.splitlines() or [""]
    escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    return '"' + "\\n".join(escaped) + '"'


def _attributes(values: dict[str, object]) -> str:
    """``key="value", ...``; a list value becomes centred lines."""
    return ", ".join(f"{key}={_quote(value if isinstance(value, list) else str(value))}" for key, value in values.items())


def _wrapped(text: str) -> list[str]:
    lines = textwrap.wrap(text, _WRAP_WIDTH) or [""]
    if len(lines) > _MAX_PROBLEM_LINES:
        lines = lines[:_MAX_PROBLEM_LINES]
        lines[-1] += " ..."
    return lines


def _first_line(problem: Problem) -> str:
    return (problem.message.strip().splitlines() or [problem.kind])[0]


class _SpecDrawing:
    """Collects the DOT statements of one spec drawing."""

    def __init__(self, spec: GraphSpec, options: DiagramOptions, result: BuildResult | None) -> None:
        self.spec = spec
        self.options = options
        self.result = result
        self.problems = result.problems if result is not None else check_structure(spec)
        self.node_names: dict[str, str] = {}
        for position, call in enumerate(spec.calls):
            self.node_names.setdefault(call.id, f"call{position}")
        self.statements: list[str] = []
        self.missing: dict[str, str] = {}
        shared = [layer.id for layer in spec.layers if len(spec.calls_of(layer.id)) > 1]
        self.shared_fill = {layer_id: SHARED_FILLS[position % len(SHARED_FILLS)] for position, layer_id in enumerate(shared)}

    def node_problems(self, *node_ids: str) -> list[Problem]:
        """Problems attached to any of these call or layer ids."""
        return [problem for problem in self.problems if problem.node is not None and problem.node in node_ids]

    def graph_problems(self) -> list[Problem]:
        """Problems that belong to no drawn box (the whole graph, or an id that is neither call nor layer)."""
        drawn = {call.id for call in self.spec.calls} | {layer.id for layer in self.spec.layers}
        return [problem for problem in self.problems if problem.node is None or problem.node not in drawn]

    def layer_lines(self, layer: LayerSpec) -> list[str]:
        """The lines that describe a layer's settings, as the options ask."""
        lines = []
        config = layer.config
        if self.options.show_layer_activations and isinstance(config.get("activation"), str):
            lines.append(_("activation: {activation}").format(activation=config["activation"]))
        if self.options.show_dtype and isinstance(config.get("dtype"), str):
            lines.append(_("dtype: {dtype}").format(dtype=config["dtype"]))
        if self.options.show_trainable and not layer.trainable:
            lines.append(_("non-trainable"))
        if layer.type == "Model" and isinstance(config.get("spec"), dict):
            inner_calls = config["spec"].get("calls")
            if isinstance(inner_calls, list):
                lines.append(
                    ngettext("nested model: {count} call", "nested model: {count} calls", len(inner_calls)).format(count=len(inner_calls))
                )
        return lines

    def add_call(self, position: int) -> None:
        """One box for one call."""
        call = self.spec.calls[position]
        name = f"call{position}"
        layer = self.spec.layer(call.layer)
        layer_type = layer.type if layer is not None else "?"
        lines = [
            call.id,
            layer_type if call.layer == call.id else _("{layer_type} (layer: {layer})").format(layer_type=layer_type, layer=call.layer),
        ]
        if layer is not None:
            lines += self.layer_lines(layer)
        info = self.result.nodes.get(call.id) if self.result is not None else None
        if self.options.show_shapes and info is not None and info.output_shapes:
            lines.append(_("output: {shapes}").format(shapes=shapes_text(info.output_shapes, limit=_MAX_SHAPES_SHOWN)))
        attributes: dict[str, object] = {"fillcolor": "white"}
        calls_of_layer = self.spec.calls_of(call.layer)
        if call.layer in self.shared_fill:
            index = next(number for number, other in enumerate(calls_of_layer) if other is call)
            lines.append(
                _("shared: layer {layer} (call {number} of {count})").format(layer=call.layer, number=index + 1, count=len(calls_of_layer))
            )
            attributes["fillcolor"] = self.shared_fill[call.layer]
            attributes["penwidth"] = "2"
        if call.id in self.spec.inputs:
            lines.append(_("model input"))
            attributes["shape"] = "box"
            attributes["style"] = "filled"
        outputs = [number for number, ref in enumerate(self.spec.outputs, start=1) if split_ref(ref)[0] == call.id]
        if outputs:
            marks = ", ".join(f"#{number}" for number in outputs[:_MAX_SHAPES_SHOWN])
            if len(outputs) > _MAX_SHAPES_SHOWN:
                marks += _(", ... ({count} in all)").format(count=len(outputs))
            lines.append(_("model output {marks}").format(marks=marks))
            attributes["peripheries"] = "2"
        problems = self.node_problems(call.id, call.layer)
        if problems:
            first = _first_line(problems[0])
            more = _(" (+{count} more)").format(count=len(problems) - 1) if len(problems) > 1 else ""
            lines += _wrapped(_("error: {message}").format(message=first + more))
            attributes.update(fillcolor=FAILED_FILL, color=FAILED_BORDER, fontcolor="black", tooltip=first)
        elif self.result is not None and info is None:
            lines.append(_("not built (an input failed)"))
            attributes.update(fillcolor=NOT_BUILT_FILL, fontcolor="#555555", tooltip=_("not built because an input failed"))
        self.statements.append(f"{name} [{_attributes({'label': lines, **attributes})}];")

    def source_name(self, ref: str) -> str:
        """The node an input reference comes from; a red dashed placeholder for a call that does not exist."""
        call_id, _output = split_ref(ref)
        if call_id in self.node_names:
            return self.node_names[call_id]
        if call_id not in self.missing:
            name = f"missing{len(self.missing)}"
            self.missing[call_id] = name
            attributes = {
                "label": [_("missing: {call_id}").format(call_id=call_id)],
                "style": "dashed",
                "color": FAILED_BORDER,
                "fontcolor": FAILED_BORDER,
            }
            self.statements.append(f"{name} [{_attributes(attributes)}];")
        return self.missing[call_id]

    def add_edges(self, position: int) -> None:
        """Edges from a call's inputs, in order; labelled with the input position when there are several."""
        call = self.spec.calls[position]
        several = len(call.inputs) > 1
        for input_position, ref in enumerate(call.inputs):
            _call, output_index = split_ref(ref)
            parts = [_("input {position}").format(position=input_position)] if several else []
            if output_index:
                parts.append(_("from output {index}").format(index=output_index))
            attributes = {"label": [", ".join(parts)]} if parts else {}
            suffix = f" [{_attributes(attributes)}]" if attributes else ""
            self.statements.append(f"{self.source_name(ref)} -> call{position}{suffix};")

    def add_unused_layers(self) -> None:
        """A dashed box for each layer that no call applies (it would otherwise be invisible)."""
        for position, layer in enumerate(self.spec.layers):
            if self.spec.calls_of(layer.id):
                continue
            lines = [_("layer {layer}").format(layer=layer.id), layer.type, _("never called")]
            attributes: dict[str, object] = {"style": "dashed,filled", "fillcolor": "white"}
            problems = self.node_problems(layer.id)
            if problems:
                lines += _wrapped(_("error: {message}").format(message=_first_line(problems[0])))
                attributes.update(fillcolor=FAILED_FILL, color=FAILED_BORDER, tooltip=_first_line(problems[0]))
            self.statements.append(f"layer{position} [{_attributes({'label': lines, **attributes})}];")

    def title(self) -> list[str]:
        """The graph's label: the spec's name, how many problems, and the ones no box carries."""
        count = len(self.problems)
        heading = ngettext("{name}: {count} problem", "{name}: {count} problems", count).format(name=self.spec.name, count=count)
        lines = [heading if count else self.spec.name]
        for problem in self.graph_problems():
            lines += _wrapped(_("error: {message}").format(message=problem.text()))
        return lines

    def text(self) -> str:
        """The whole DOT document."""
        for position in range(len(self.spec.calls)):
            self.add_call(position)
        for position in range(len(self.spec.calls)):
            self.add_edges(position)
        self.add_unused_layers()
        graph = {"rankdir": self.options.rankdir, "dpi": str(self.options.dpi), "labelloc": "t", "fontname": "Helvetica"}
        header = [
            "digraph spec {",
            f"graph [{_attributes(graph)}, label={_quote(self.title())}];",
            'node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica, fontsize=12];',
            "edge [fontname=Helvetica, fontsize=10];",
        ]
        return "\n".join([*header, *self.statements, "}"]) + "\n"


def spec_dot(spec: GraphSpec, options: DiagramOptions = DEFAULT_OPTIONS, result: BuildResult | None = None) -> str:
    """DOT text drawn from the spec itself: one box per call, failing ones red (structural checks only without ``result``)."""
    return _SpecDrawing(spec, options, result).text()


def diagram_dot(spec: GraphSpec, options: DiagramOptions = DEFAULT_OPTIONS, result: BuildResult | None = None) -> str:
    """Keras's drawing of the built model when the spec builds, else the spec drawing marking the problems."""
    result = result if result is not None else analyze(spec)
    if result.ok:
        return model_dot(result.model, options)
    return spec_dot(spec, options, result)


def _check_format(fmt: str) -> str:
    normalized = fmt.lower().lstrip(".")
    if normalized not in FORMATS:
        raise DiagramError(_("Unknown diagram format {fmt!r}; expected one of: {formats}").format(fmt=fmt, formats=", ".join(FORMATS)))
    return normalized


def _require_graphviz(fmt: str) -> str:
    dot_program = shutil.which("dot")
    if dot_program is None:
        raise DiagramError(
            _("Graphviz is not installed (its `dot` program is not on the PATH), so a {fmt} cannot be drawn; {hint}").format(
                fmt=fmt.upper(), hint=_(INSTALL_HINT)
            )
        )
    return dot_program


def _render_model(model: keras.Model, fmt: str, options: DiagramOptions) -> bytes:
    _require_graphviz(fmt)
    with tempfile.TemporaryDirectory(prefix="studio-diagram-") as directory:
        target = Path(directory) / f"model.{fmt}"
        try:
            keras.utils.plot_model(model, to_file=str(target), **dataclasses.asdict(options))
            return target.read_bytes()
        except ImportError as error:  # plot_model's own "install graphviz" check
            raise DiagramError(
                _("Graphviz cannot draw model '{model_name}': {error}; {hint}").format(
                    model_name=model.name, error=error, hint=_(INSTALL_HINT)
                )
            ) from error
        except (AssertionError, OSError) as error:  # pydot asserts that `dot` exited with 0
            raise DiagramError(
                _("Graphviz failed to draw model '{model_name}' as {fmt}: {error}").format(
                    model_name=model.name, fmt=fmt.upper(), error=error
                )
            ) from error


def render_dot_text(dot_text: str, fmt: str) -> bytes:
    """Run Graphviz's ``dot`` on DOT text and return the PNG or SVG bytes."""
    fmt = _check_format(fmt)
    if fmt == "dot":
        return dot_text.encode("utf-8")
    dot_program = _require_graphviz(fmt)
    try:
        completed = subprocess.run(
            [dot_program, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True, timeout=RENDER_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise DiagramError(
            _("Graphviz took longer than {seconds} s to draw the diagram as {fmt}; try the DOT format").format(
                seconds=RENDER_TIMEOUT_SECONDS, fmt=fmt.upper()
            )
        ) from error
    except OSError as error:
        raise DiagramError(
            _("Cannot run Graphviz's `dot` program ({dot_program}): {error}").format(dot_program=dot_program, error=error)
        ) from error
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[0] if message else _("exit code {code}").format(code=completed.returncode)
        raise DiagramError(_("Graphviz failed to draw the diagram as {fmt}: {detail}").format(fmt=fmt.upper(), detail=detail))
    return completed.stdout


def render_diagram(
    spec_or_model: GraphSpec | keras.Model, fmt: str, options: DiagramOptions = DEFAULT_OPTIONS, result: BuildResult | None = None
) -> bytes:
    """The diagram as bytes: "dot" (DOT text), "png" or "svg" (drawn by Graphviz, which must be installed)."""
    fmt = _check_format(fmt)
    if fmt != "dot":
        _require_graphviz(fmt)  # before any (possibly slow) build
    if isinstance(spec_or_model, GraphSpec):
        result = result if result is not None else analyze(spec_or_model)
        if not result.ok:
            return render_dot_text(spec_dot(spec_or_model, options, result), fmt)
        model = result.model
    elif isinstance(spec_or_model, keras.Model):
        model = spec_or_model
    else:
        raise DiagramError(
            _("render_diagram draws a GraphSpec or a keras.Model. Received: {type_name}").format(type_name=type(spec_or_model).__name__)
        )
    if fmt == "dot":
        return model_dot(model, options).encode("utf-8")
    return _render_model(model, fmt, options)


SUFFIX_FORMATS = {".dot": "dot", ".gv": "dot", ".png": "png", ".svg": "svg"}


def format_for_path(path: str | Path) -> str:
    """The diagram format a file name asks for by its suffix (``.dot``/``.gv``, ``.png``, ``.svg``)."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        expected = ", ".join(SUFFIX_FORMATS)
        raise DiagramError(
            _(
                "Cannot tell the diagram format of '{path}' from its suffix {suffix!r}; expected one of {expected}, or give the format"
            ).format(path=path, suffix=suffix, expected=expected)
        )
    return SUFFIX_FORMATS[suffix]
