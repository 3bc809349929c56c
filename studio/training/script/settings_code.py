"""Compile settings as syntax: the ``model.compile(...)`` call of the training script and of the tutorial-style code.

Every name written here is one the settings validated (optimizer class, full loss and metric names), and
every value a literal.
"""

from __future__ import annotations

import ast

from studio.io.codegen import syntax as py
from studio.training.settings import LOGIT_LOSS_CLASSES, CompileSettings, OutputSettings

COMPILE_KEYWORDS = ("optimizer", "loss", "metrics", "loss_weights")


def _loss(output: OutputSettings) -> ast.expr:
    """A loss name, or a loss object when the output gives logits."""
    if output.from_logits and output.loss in LOGIT_LOSS_CLASSES:
        keyword = py.keyword_argument("from_logits", py.literal(True))
        return py.call(py.attribute(py.path("keras.losses"), LOGIT_LOSS_CLASSES[output.loss]), [], [keyword])
    return py.literal(output.loss)


def _per_output(values: list[ast.expr], keys: list[str] | None) -> ast.expr:
    """One value per output: a dict keyed by the output names when given, else a list in output order."""
    if keys is None:
        return ast.List(elts=values, ctx=ast.Load())
    return ast.Dict(keys=[py.literal(key) for key in keys], values=values)


def optimizer_expression(settings: CompileSettings) -> ast.Call:
    """``keras.optimizers.RMSprop(learning_rate=0.001)``."""
    rate = py.keyword_argument("learning_rate", py.literal(float(settings.learning_rate)))
    return py.call(py.attribute(py.path("keras.optimizers"), settings.optimizer), [], [rate])


def compile_call(settings: CompileSettings, model: str = "model", keys: list[str] | None = None, all_metrics: bool = True) -> ast.Call:
    """``model.compile(optimizer=..., loss=..., metrics=..., loss_weights=...)`` for these settings.

    One output gets a single loss and metric list, as the tutorial writes it; several get one of each per
    output, in a dict keyed by `keys` (the output names) or a list. Without `all_metrics`, empty metric
    lists are left out.
    """
    settings.validate()
    outputs = settings.outputs
    single = len(outputs) == 1
    losses = [_loss(output) for output in outputs]
    metrics = [ast.List(elts=[py.literal(name) for name in output.metrics], ctx=ast.Load()) for output in outputs]
    keywords = [
        py.keyword_argument("optimizer", optimizer_expression(settings), COMPILE_KEYWORDS),
        py.keyword_argument("loss", losses[0] if single else _per_output(losses, keys), COMPILE_KEYWORDS),
    ]
    if all_metrics or any(output.metrics for output in outputs):
        keywords.append(py.keyword_argument("metrics", metrics[0] if single else _per_output(metrics, keys), COMPILE_KEYWORDS))
    if not single:
        weights = [py.literal(float(output.loss_weight)) for output in outputs]
        keywords.append(py.keyword_argument("loss_weights", _per_output(weights, keys), COMPILE_KEYWORDS))
    return py.call(py.attribute(py.name(model), "compile"), [], keywords)
