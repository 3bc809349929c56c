"""The default training data of a model, and why (the rules are in :mod:`studio.training.defaults`): the tutorial's
data for its presets, kept for a modified preset while it still fits (checked as training checks it), else a guess
from the shapes.
"""

from __future__ import annotations

from types import SimpleNamespace

from studio.graph.spec import GraphSpec
from studio.i18n import _
from studio.training.data import fit_to_model
from studio.training.datasets import DATASET_CHOICES, DataError, load_dataset
from studio.training.defaults import (
    PRESET_DATA,
    PRESET_REASONS,
    DefaultData,
    guess_from_shapes,
    input_shapes,
    origin_preset,
    preset_of,
    preset_title,
)
from studio.training.settings import default_settings


def data_misfit(spec: GraphSpec, key: str, output_shapes: list[tuple] | None) -> str | None:
    """Why the data ``key`` does not fit the spec (inputs as the spec declares them, outputs as given), or None.

    The same check as training itself (:func:`studio.training.data.fit_to_model`) on a few samples, so the
    message names the input or output, its shape and what the data gives. Without output shapes, None.
    """
    inputs = input_shapes(spec)
    if inputs is None or output_shapes is None or len(output_shapes) != len(spec.outputs):
        return None
    model = SimpleNamespace(
        inputs=[SimpleNamespace(shape=(None, *shape), dtype=dtype) for shape, dtype in inputs],
        outputs=[SimpleNamespace(shape=tuple(shape), dtype="float32") for shape in output_shapes],
    )
    try:
        dataset = load_dataset(key)
        fit_to_model(dataset.head(), model, list(spec.inputs), list(spec.outputs), default_settings(spec, key).losses())
    except DataError as error:
        return str(error)
    return None


def explain_default_data(spec: GraphSpec, output_shapes: list[tuple] | None = None) -> DefaultData:
    """The default data of a spec and why (see the module docstring); ``output_shapes`` as Keras gives them, batch first."""
    exact = preset_of(spec)
    if exact is not None:
        return DefaultData(PRESET_DATA.get(exact), exact, reason=_(PRESET_REASONS[exact]) if exact in PRESET_REASONS else "")
    guess = guess_from_shapes(spec, output_shapes)
    guessed = _("Chosen from the model's shapes: one input shaped like an MNIST digit.") if guess else ""
    if guess == "mnist_autoencoder":
        guessed = _("The output has the input's shape, so the model trains as an autoencoder: each image is its own target.")
    origin = origin_preset(spec)
    if origin is None or PRESET_DATA.get(origin) is None:
        return DefaultData(guess, origin, origin is not None, guessed)
    kept = PRESET_DATA[origin]
    data_name = _(DATASET_CHOICES.get(kept, kept))
    if guess == "mnist_autoencoder" and kept != guess:
        return DefaultData(guess, origin, True, guessed)
    misfit = data_misfit(spec, kept, output_shapes)
    if misfit is None:
        reason = _("Made from the tutorial's `{preset}`: its data ({data}) still fits, so it is kept, with its loss weights.")
        return DefaultData(kept, origin, True, reason.format(preset=preset_title(origin), data=data_name))
    lost = _("Made from the tutorial's `{preset}`, but its data ({data}) no longer fits: {reason}").format(
        preset=preset_title(origin), data=data_name, reason=misfit
    )
    return DefaultData(guess, origin, True, guessed, [lost])


def default_dataset_key(spec: GraphSpec, output_shapes: list[tuple] | None = None) -> str | None:
    """The default data of a spec: its preset's (also once modified, while it fits), else guessed from its shapes; None if none fits."""
    return explain_default_data(spec, output_shapes).key
