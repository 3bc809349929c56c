"""The one rule for model names Keras 3.15 on TensorFlow can run: training, saved files, the training script
and the code export all ask :func:`keras_model_name`.

TensorFlow traces ``fit``, ``predict`` and ``evaluate`` under a root name scope named after the model, and a
root scope name must match ``^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$``: 'mnist model', '_private' or 'modèle' fail
there although Keras builds them. The rule here is a little stricter (Keras refuses '/' in any name, and '>' is
replaced too, as in a file name). No Keras here (pure text).
"""

from __future__ import annotations

import re

from studio.i18n import N_

_OUTSIDE_SCOPE_NAME = re.compile(r"[^A-Za-z0-9_.\-]")
_SCOPE_NAME_START = re.compile(r"^[A-Za-z0-9.]")
# Marked for the catalogue: show it with `_(KERAS_NAME_RULE)`.
KERAS_NAME_RULE = N_(
    "Keras 3 on TensorFlow cannot fit, predict or evaluate a model whose name has a space or another character "
    "outside A-Z a-z 0-9 _ . - (or starts with _ or -)"
)


def keras_model_name(name: str) -> str:
    """The name TensorFlow accepts as a root scope: 'mnist model' -> 'mnist_model'; an accepted name is returned as is."""
    safe = _OUTSIDE_SCOPE_NAME.sub("_", name)
    return safe if _SCOPE_NAME_START.match(safe) else f"model{safe}"


def needs_keras_name(name: str) -> bool:
    """True when Keras cannot fit, predict or evaluate a model with this name (see :func:`keras_model_name`)."""
    return keras_model_name(name) != name
