"""Ids for new nodes, as Keras names layers: 'dense', 'dense_1', 'max_pooling2d', 'vgg16'."""

from __future__ import annotations

import re

from studio.catalog import table
from studio.graph.spec import GraphSpec


def snake_case(name: str) -> str:
    """Keras's own layer naming: 'MaxPooling2D' -> 'max_pooling2d', 'Conv2DTranspose' -> 'conv2d_transpose'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower() or "node"


def used_ids(spec: GraphSpec) -> set[str]:
    """Every layer and call id in the spec."""
    return {layer.id for layer in spec.layers} | {call.id for call in spec.calls}


def unique_id(spec: GraphSpec, base: str) -> str:
    """`base`, or `base_1`, `base_2` ... whichever is free first (as Keras names layers)."""
    base = re.sub(r"[^A-Za-z0-9_.\-]", "_", base.strip()) or "node"
    if not re.match(r"[A-Za-z_]", base):
        base = f"n_{base}"
    taken = used_ids(spec)
    if base not in taken:
        return base
    number = 1
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def default_id(spec: GraphSpec, layer_type: str) -> str:
    """The id Keras would give a new layer of this type ('dense', 'dense_1', 'input', 'vgg16', 'resnet50' ...)."""
    if layer_type == "Input":
        return unique_id(spec, "input")
    if layer_type in table.APPLICATION_TYPES:
        return unique_id(spec, layer_type.lower())  # as Keras: vgg16, resnet50, mobilenetv2
    return unique_id(spec, snake_case(layer_type))
