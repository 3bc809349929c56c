"""What reading a piece of Python gives: the models found, notes (skipped lines, assumptions) and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.graph.spec import GraphSpec
from studio.i18n import N_, _

NOTE_KINDS = {"skipped": N_("skipped"), "assumption": N_("assumption")}
_FIT_LABELS = (
    ("batch_size", N_("batch size {value}")),
    ("epochs", N_("epochs {value}")),
    ("validation_split", N_("validation split {value}")),
    ("shuffle", N_("shuffle {value}")),
)


def note_kind_label(kind: str) -> str:
    """A note's kind ('skipped', 'assumption') in the current language."""
    return _(NOTE_KINDS[kind]) if kind in NOTE_KINDS else kind


@dataclass(frozen=True)
class CodeProblem:
    """A line the parser cannot read: where (1-based line and column, None when it concerns the whole text) and why."""

    line: int | None
    column: int | None
    message: str

    def text(self) -> str:
        """'line 12, column 5: ...' (or just the message when there is no line)."""
        if self.line is None:
            return self.message
        if self.column:
            return _("line {line}, column {column}: {message}").format(line=self.line, column=self.column, message=self.message)
        return _("line {line}: {message}").format(line=self.line, message=self.message)

    def excerpt(self, source: str) -> str:
        """The offending line of `source` with a caret under the column, as Python tracebacks show it ('' without a line)."""
        lines = source.splitlines()
        if self.line is None or not 1 <= self.line <= len(lines):
            return ""
        code = lines[self.line - 1].expandtabs(4)
        if len(code) > 160:
            code = code[:157] + "..."
        gutter = f"{self.line:>4} | "
        text = f"{gutter}{code}"
        if self.column and self.column - 1 < len(code):
            text += "\n" + " " * (len(gutter) - 2) + "| " + " " * (self.column - 1) + "^"
        return text


@dataclass(frozen=True)
class CodeNote:
    """Something the reader should know: a skipped line ('skipped') or a choice the parser made ('assumption')."""

    line: int | None
    kind: str
    message: str

    def text(self) -> str:
        """'line 30 (skipped): ...'."""
        kind = note_kind_label(self.kind)
        if self.line is None:
            return _("({kind}) {message}").format(kind=kind, message=self.message)
        return _("line {line} ({kind}): {message}").format(line=self.line, kind=kind, message=self.message)


@dataclass
class ParsedModel:
    """One model the code defines: its Keras name, the variable holding it, its spec and the training settings read."""

    name: str
    variable: str | None
    spec: GraphSpec
    line: int | None
    training: dict[str, Any] = field(default_factory=dict)
    implicit: bool = False

    def label(self) -> str:
        """'mnist model (variable model, line 12)'."""
        details = [_("variable {variable}").format(variable=self.variable)] if self.variable and self.variable != self.name else []
        if self.line is not None:
            details.append(_("line {line}").format(line=self.line))
        return f"{self.name} ({', '.join(details)})" if details else self.name


@dataclass
class ParseResult:
    """Everything the parser found in one piece of code."""

    filename: str
    models: list[ParsedModel] = field(default_factory=list)
    notes: list[CodeNote] = field(default_factory=list)
    errors: list[CodeProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when at least one model was found and no line failed."""
        return bool(self.models) and not self.errors

    @property
    def default_model(self) -> ParsedModel | None:
        """The last model the code defines (what `python -m studio parse` prints without --model)."""
        return self.models[-1] if self.models else None

    def model(self, name: str | None = None) -> ParsedModel:
        """The model with this Keras name or variable (the last one for None); KeyError naming the ones found."""
        if name is None:
            if not self.models:
                raise KeyError(_("No model found in {filename}").format(filename=self.filename))
            return self.models[-1]
        for model in reversed(self.models):
            if name in (model.name, model.variable):
                return model
        found = ", ".join(model.label() for model in self.models) or _("none")
        raise KeyError(
            _("No model called '{name}' in {filename}; models found: {found}").format(name=name, filename=self.filename, found=found)
        )

    def error_lines(self) -> list[str]:
        """Every error as '<file>:<line>:<column>: message'."""
        lines = []
        for problem in self.errors:
            where = self.filename
            if problem.line is not None:
                where += f":{problem.line}" + (f":{problem.column}" if problem.column else "")
            lines.append(f"{where}: {problem.message}")
        return lines


def settings_lines(training: dict[str, Any]) -> list[str]:
    """The training settings read from compile/fit, one readable line each ('optimizer RMSprop, learning rate 0.001')."""
    lines = []
    if "optimizer" in training:
        if "learning_rate" in training:
            lines.append(
                _("optimizer {optimizer}, learning rate {rate:g}").format(optimizer=training["optimizer"], rate=training["learning_rate"])
            )
        else:
            lines.append(_("optimizer {optimizer}").format(optimizer=training["optimizer"]))
    for output in training.get("outputs", []):
        parts = []
        if "loss" in output:
            loss = _("loss {loss} (from logits)") if output.get("from_logits") else _("loss {loss}")
            parts.append(loss.format(loss=output["loss"]))
        if "loss_weight" in output:
            parts.append(_("weight {weight:g}").format(weight=output["loss_weight"]))
        if output.get("metrics"):
            parts.append(_("metrics {metrics}").format(metrics=", ".join(output["metrics"])))
        if parts:
            lines.append(_("output {name}: {settings}").format(name=output["name"], settings="; ".join(parts)))
    fit = [_(label).format(value=training[key]) for key, label in _FIT_LABELS if key in training]
    if fit:
        lines.append(", ".join(fit))
    return lines
