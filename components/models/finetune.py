"""Fine-tuning a loaded or trained model: per-layer trainable toggles, then more training through the
training engine's job queue (when the engine accepts a ready model; otherwise the page says what is missing)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st

from components.text import md
from studio.graph.spec import SpecError
from studio.i18n import N_, _, ngettext

SOURCE = "models.ft.source"
COLUMNS = {"layer": N_("layer"), "type": N_("type"), "parameters": N_("parameters"), "trainable": N_("trainable")}
ENGINE_MISSING = N_(
    "Continuing training needs the training engine to accept a ready model: a field `model: keras.Model | None` on "
    "`studio.training.job.TrainingRequest` that `TrainingJob._prepare` uses instead of `build_model(spec)` (keeping each "
    "layer's `trainable` flag and the weights). Until it has one, freeze or unfreeze layers here and download the "
    "result from the Export page after training, or open the model in the builder to retrain it from scratch."
)


def engine_takes_a_model() -> bool:
    """Whether ``TrainingRequest`` has a ``model`` field (a ready model to train further)."""
    from studio.training.job import TrainingRequest

    return "model" in {field.name for field in dataclasses.fields(TrainingRequest)}


def trainable_table(model: Any, frozen: set[str]) -> pd.DataFrame:
    """One row per layer with weights: its type, parameter count and whether it will be trained (stable column ids)."""
    rows = [
        {"layer": layer.name, "type": type(layer).__name__, "parameters": int(layer.count_params()), "trainable": layer.name not in frozen}
        for layer in model.layers
        if layer.weights
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def with_frozen_layers(model: Any, frozen: set[str]) -> Any:
    """An independent copy of the model (same weights) whose listed layers are not trainable."""
    from studio.io.model_files import snapshot_model

    copy = snapshot_model(model)
    for layer in copy.layers:
        if layer.weights:
            layer.trainable = layer.name not in frozen
    return copy


def render_finetune(trained: Any, uploaded: Any) -> None:
    """Pick a model, freeze layers, and continue training it."""
    options = {"uploaded": _("The uploaded model"), "trained": _("This session's trained model")}
    source = st.radio(_("Model to fine-tune"), list(options), format_func=options.get, horizontal=True, key=SOURCE)
    model = uploaded if source == "uploaded" else trained
    if model is None:
        st.info(_("Upload a model in the Upload tab first.") if source == "uploaded" else _("Train a model on the Train page first."))
        return
    names = [layer.name for layer in model.layers if layer.weights]
    token = f"{source}.{model.name}"
    frozen = set(
        st.multiselect(
            _("Frozen layers (kept as they are; the others are trained)"),
            names,
            default=[layer.name for layer in model.layers if layer.weights and not layer.trainable],
            key=f"models.ft.frozen.{token}",
        )
    )
    table = trainable_table(model, frozen)
    trainable = int(table.loc[table["trainable"], "parameters"].sum()) if len(table) else 0
    total = int(table["parameters"].sum()) if len(table) else 0
    will_train = ngettext("{trainable} of {total} parameter will be trained.", "{trainable} of {total} parameters will be trained.", total)
    st.caption(will_train.format(trainable=f"{trainable:,}", total=f"{total:,}"))
    shown = table.rename(columns={column: _(label) for column, label in COLUMNS.items()})
    st.dataframe(shown, hide_index=True, key=f"models.ft.table.{token}")
    if not engine_takes_a_model():
        st.info(_(ENGINE_MISSING), icon=":material/construction:")
        return
    _render_training(model, frozen, token)


def _render_training(model: Any, frozen: set[str], token: str) -> None:
    from components.training.jobs import current_job, start_job
    from components.training.settings import render_compile_settings, render_data_choice
    from studio.model.importer import spec_from_model
    from studio.training.default_data import default_dataset_key
    from studio.training.job import TrainingRequest
    from studio.training.settings import default_settings

    try:
        spec = spec_from_model(model)
    except SpecError as error:
        st.warning(
            _("Fine-tuning needs the model's inputs and outputs as a spec, and this model has none: {error}").format(error=md(error))
        )
        return
    choice = render_data_choice(spec, default_dataset_key(spec), f"ft.{token}")
    settings = render_compile_settings(default_settings(spec, choice.key), f"ft.{token}.{choice.key or 'upload'}")
    job = current_job()
    busy = job is not None and job.active
    if st.button(_("Continue training"), key="models.ft.train", type="primary", disabled=busy or not choice.ready):
        request = TrainingRequest(spec, settings, dataset_key=choice.key, dataset=choice.dataset, model=with_frozen_layers(model, frozen))
        start_job(request)
        st.success(_("Fine-tuning started: follow it on the Train page; its files are on the Export page."))
    elif busy:
        st.caption(_("A run of this session is still going: wait for it or stop it on the Train page."))
