"""How many steps a training job runs per compiled call, and its step-0 point: a rough per-step cost
from the model's layers, so that the live chart gets about one point every UPDATE_INTERVAL_S."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

UPDATE_INTERVAL_S = 0.2  # target time between chart points (>= 1 update/second is required)
MAX_STEPS_PER_EXECUTION = 128
MIN_STEPS_FOR_GROUPS = 500  # fewer steps in the whole run: one step per call
INITIAL_LOSS_MAX_STEP_S = 0.02  # models estimated slower than this get their eager step-0 point on a few samples
SLOW_MODEL_LOSS_SAMPLES = 8
STEP_OVERHEAD_S = 0.0006  # per-step cost inside a compiled loop for a tiny model on CPU
CPU_FLOPS = 4e9  # effective training throughput of two CPU cores, measured on the conv presets
RECURRENT_STEP_S = 0.0005  # per-timestep cost of a recurrent layer's loop


def one_or_list(arrays: list[np.ndarray]) -> Any:
    """One array as itself, several as a list (what Keras expects for one or several inputs)."""
    return arrays[0] if len(arrays) == 1 else arrays


def _leaf_layers(model: Any) -> list[Any]:
    layers = []
    for layer in model.layers:
        layers += _leaf_layers(layer) if hasattr(layer, "layers") and layer.layers else [layer]
    return layers


def _positions(shape: tuple, sequence_length: int) -> int:
    inner = [sequence_length if d is None else int(d) for d in tuple(shape)[1:-1]]
    return math.prod(inner) if inner else 1


def estimate_step_seconds(model: Any, batch_size: int, sequence_length: int = 1) -> float:
    """A rough time for one training step on CPU: about 2 * params * positions flops per sample per layer,
    three times that for forward + backward, plus a per-timestep cost for recurrent layers."""
    flops, timesteps = 0.0, 0
    for layer in _leaf_layers(model):
        params = layer.count_params() if layer.built else 0
        if not params or type(layer).__name__ == "Embedding":  # a lookup, not a product
            continue
        for node in getattr(layer, "_inbound_nodes", []) or [None]:
            try:
                shapes = [tuple(t.shape) for t in [*node.input_tensors, *node.output_tensors]]
            except (AttributeError, TypeError):
                shapes = []
            positions = max([_positions(shape, sequence_length) for shape in shapes] or [1])
            flops += 2.0 * params * positions
            if hasattr(layer, "cell"):
                timesteps += positions
    return 3.0 * flops * batch_size / CPU_FLOPS + STEP_OVERHEAD_S + timesteps * RECURRENT_STEP_S


def choose_steps_per_execution(step_seconds: float, steps_per_epoch: int, epochs: int) -> int:
    """Steps per compiled call so that one step group takes about UPDATE_INTERVAL_S (small models: many).

    Short runs keep 1: tracing the multi-step loop costs more than the per-step overhead it saves.
    """
    if steps_per_epoch * epochs < MIN_STEPS_FOR_GROUPS:
        return 1
    return int(max(1, min(steps_per_epoch, MAX_STEPS_PER_EXECUTION, UPDATE_INTERVAL_S // step_seconds)))


def pacing_for(model: Any, x_train: list[np.ndarray], batch_size: int, epochs: int, fixed: int = 0) -> tuple[int, float]:
    """(steps per execution, estimated seconds per step) for fitting ``model`` on ``x_train`` (``fixed``: the user's)."""
    steps = max(1, math.ceil(len(x_train[0]) / batch_size))
    sequence_length = max([a.shape[1] for a in x_train if a.ndim >= 2] or [1])
    step_seconds = estimate_step_seconds(model, batch_size, sequence_length)
    return fixed or choose_steps_per_execution(step_seconds, steps, epochs), step_seconds


def initial_loss(model: Any, x: list[np.ndarray], y: list[np.ndarray], batch_size: int) -> float | None:
    """The compiled loss of the untrained model on the first batch, computed eagerly (no tracing), or None."""
    count = min(batch_size, 256, len(x[0]))
    try:
        predictions = model(one_or_list([a[:count] for a in x]), training=False)
        value = model.compute_loss(y=one_or_list([a[:count] for a in y]), y_pred=predictions, training=False)
        return float(value)
    except Exception:  # noqa: BLE001 - only a preview point; fit reports real problems
        logger.debug("no initial loss", exc_info=True)
        return None
