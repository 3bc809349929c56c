"""Which Keras 3 backend trains a job: the choices, which are installed, and the reason a choice was made.

Keras 3 runs one functional model on TensorFlow or JAX; on a CPU they differ a lot (dense models train
several times faster under JAX's jit, convolutions faster under TensorFlow's oneDNN kernels). A job runs in
a worker process whose backend is fixed when it starts (``KERAS_BACKEND`` is read once per process), so the
choice is made before the job is sent: by the user, or ``fastest`` by a short measurement
(:mod:`studio.training.calibration`). Nothing here imports Keras.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from studio.i18n import N_, _

TENSORFLOW, JAX, FASTEST = "tensorflow", "jax", "fastest"
BACKENDS = (TENSORFLOW, JAX)
CHOICES = (FASTEST, TENSORFLOW, JAX)
BACKEND_NAMES = {TENSORFLOW: "TensorFlow", JAX: "JAX", FASTEST: N_("fastest (measured)")}
DEFAULT_VARIABLE = "KFS_TRAINING_BACKEND"  # the default choice of new settings: fastest, tensorflow or jax
_MODULES = {TENSORFLOW: "tensorflow", JAX: "jax"}


def backend_name(backend: str) -> str:
    """How a backend or choice is shown ('JAX', 'fastest (measured)')."""
    return _(BACKEND_NAMES[backend]) if backend in BACKEND_NAMES else backend


def installed_backends() -> tuple[str, ...]:
    """The backends whose package can be imported here (TensorFlow always is: the app needs it)."""
    return tuple(backend for backend in BACKENDS if importlib.util.find_spec(_MODULES[backend]) is not None)


def default_choice() -> str:
    """The backend choice of new compile settings: ``KFS_TRAINING_BACKEND`` when valid, else fastest."""
    value = os.environ.get(DEFAULT_VARIABLE, "").strip().lower()
    return value if value in CHOICES else FASTEST


def check_choice(choice: str) -> str | None:
    """What is wrong with a backend choice (unknown, or a backend that is not installed), or None."""
    if choice not in CHOICES:
        return _("'{choice}' is not a backend: choose one of {names}").format(choice=choice, names=", ".join(CHOICES))
    if choice != FASTEST and choice not in installed_backends():
        return _("{name} is not installed on this machine: choose {names}, or install it (see the README)").format(
            name=backend_name(choice), names=", ".join([FASTEST, *installed_backends()])
        )
    return None


@dataclass(frozen=True)
class BackendChoice:
    """The backend a job runs on and why, in words for the run record and the page."""

    backend: str
    reason: str
    measured: dict[str, float] | None = None  # backend -> predicted seconds for this run, when measured
