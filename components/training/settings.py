"""Training page widgets: the data choice (with its source, a preview and why it is this model's default;
for a modified example model, what of the tutorial's data and settings no longer fits) and the compile
settings per output (and the Keras backend that trains it). Each takes plain data and returns plain data;
widget keys start with ``train.``."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from components.text import md
from studio.graph.spec import GraphSpec
from studio.i18n import N_, _
from studio.limits import describe, limits
from studio.training.backends import CHOICES, FASTEST, backend_name, check_choice, installed_backends
from studio.training.data import preview, read_user_data
from studio.training.datasets import DATASET_CHOICES, DataError, Dataset, load_dataset
from studio.training.default_data import explain_default_data
from studio.training.defaults import DefaultData, preset_of
from studio.training.settings import LOSSES, METRICS, OPTIMIZERS, CompileSettings, OutputSettings, settings_report

UPLOAD = "upload"
UPLOADED_DATA = "train.state.uploaded_data"  # (upload fingerprint, Dataset or DataError) of this session's last data file
UPLOAD_LABEL = N_("Upload my own data (CSV or NPZ)")
# The preview table's columns (studio.training.data.preview keeps stable keys) and its roles.
PREVIEW_COLUMNS = {
    "role": N_("role"),
    "name": N_("name"),
    "samples": N_("samples"),
    "shape": N_("shape"),
    "dtype": N_("dtype"),
    "min": N_("min"),
    "max": N_("max"),
    "first values": N_("first values"),
}
PREVIEW_ROLES = {"input": N_("input"), "target": N_("target")}
BACKEND_HELP = N_(  # shown with _(BACKEND_HELP) next to the backend choice and the backend a run trained on
    "Keras 3 runs the same model on several backends. On a CPU, dense models usually train faster under JAX, "
    "convolutions under TensorFlow. **fastest (measured)** measures both on this machine once per model "
    "(a few seconds), then remembers which one was faster."
)


@dataclass
class DataChoice:
    """What the user picked: a dataset key, or an uploaded dataset; with an error when it cannot be used."""

    key: str | None
    dataset: Dataset | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Whether training can start with this choice."""
        return self.error is None and (self.key is not None or self.dataset is not None)


def _uploaded(upload: object, inputs: tuple, outputs: tuple, autoencoder: bool) -> Dataset:
    """The dataset of an uploaded file, read once per upload and kept in this session only.

    It lives in ``st.session_state`` (one file at a time), so its memory goes with the session, and no
    other session can see it; a new upload replaces the old one.
    """
    fingerprint = (getattr(upload, "file_id", None), upload.name, upload.size, inputs, outputs, autoencoder)
    cached = st.session_state.get(UPLOADED_DATA)
    if cached is None or cached[0] != fingerprint:
        st.session_state.pop(UPLOADED_DATA, None)  # let the previous file's arrays go before reading the next
        try:
            cached = (fingerprint, read_user_data(upload.getvalue(), upload.name, list(inputs), list(outputs), autoencoder))
        except DataError as error:
            cached = (fingerprint, str(error))  # the message only: the error's traceback would keep the arrays alive
        st.session_state[UPLOADED_DATA] = cached
    if isinstance(cached[1], str):
        raise DataError(cached[1])
    return cached[1]


def describe_source(dataset: Dataset) -> str:
    """Which data is used, in one sentence (says whether MNIST is the full set or the offline sample)."""
    text = dataset.describe()
    if dataset.credit:
        text = _("{description}. {credit}").format(description=text, credit=dataset.credit)
    return text


def data_label(key: str, default_key: str | None = None) -> str:
    """How the data choice names a dataset (translated), marked when it is this model's default."""
    label = _(UPLOAD_LABEL) if key == UPLOAD else _(DATASET_CHOICES.get(key, key))
    return _("{label} — default for this model").format(label=label) if key == default_key else label


def _output_shapes(spec: GraphSpec) -> list[tuple] | None:
    """The outputs' shapes of the built spec (cached per spec), or None when it does not build here."""
    from components import cache

    try:
        result = cache.analysis(spec)
    except Exception:  # noqa: BLE001 - only an explanation: without shapes the defaults stay unexplained
        return None
    return [tuple(tensor.shape) for tensor in result.model.outputs] if result.ok and result.model is not None else None


def default_explanation(spec: GraphSpec) -> DefaultData:
    """Why the model's default data is what it is (a modified example model: its shapes are checked)."""
    return explain_default_data(spec, None if preset_of(spec) else _output_shapes(spec))


def _render_defaults(spec: GraphSpec, key: str | None, default_key: str | None) -> None:
    """Why this default, and what of an example model's data and settings no longer fits after a change."""
    explained = default_explanation(spec)
    if key == default_key and explained.reason:
        st.info(explained.reason, icon=":material/info:")  # the app's own sentence, with its **bold** and `code`
    for misfit in explained.misfits:
        st.warning(md(misfit), icon=":material/rule:")
    for note in settings_report(spec, None if key == UPLOAD else key)[1]:
        st.caption(md(note))


def render_data_choice(spec: GraphSpec, default_key: str | None, token: str) -> DataChoice:
    """Pick the training data; shows its source and sizes, or why it cannot be had, and why it is the default."""
    options = ([default_key] if default_key else []) + [k for k in DATASET_CHOICES if k != default_key] + [UPLOAD]
    key = st.selectbox(_("Training data"), options, format_func=lambda k: data_label(k, default_key), key=f"train.dataset.{token}")
    _render_defaults(spec, key, default_key)
    if key == UPLOAD:
        return _render_upload(spec, token)
    try:
        with st.spinner(_("Loading data ...")):
            dataset = load_dataset(key)
    except DataError as error:
        st.error(md(error), icon=":material/cloud_off:")
        return DataChoice(key, error=str(error))
    st.caption(md(describe_source(dataset)))
    if dataset.notes:
        st.caption(md(_("; ").join(dataset.notes)))
    return DataChoice(key, notes=list(dataset.notes))


def preview_table(dataset: Dataset) -> pd.DataFrame:
    """The preview of a dataset with translated column names and roles."""
    rows = [{**row, "role": _(PREVIEW_ROLES.get(row["role"], row["role"]))} for row in preview(dataset)]
    return pd.DataFrame(rows).rename(columns={key: _(label) for key, label in PREVIEW_COLUMNS.items()})


def _render_upload(spec: GraphSpec, token: str) -> DataChoice:
    active = limits()
    st.caption(
        _(
            "CSV with a header: columns named after the model's inputs and outputs ({names}), "
            "as `<name>` or `<name>_0, <name>_1, ...`; with one input and one output a `label` column (or the last column) is "
            "the target. NPZ: one array per input and output with the same names (or `x`/`y`), optionally `<name>_test`. "
            "Limits: {size}; {values}."
        ).format(
            names=md(", ".join(spec.inputs + spec.outputs)),
            size=describe("max_data_mb", active.max_data_mb),
            values=describe("max_data_values", active.max_data_values),
        )
    )
    autoencoder = st.checkbox(_("Autoencoder: the target is the input"), key=f"train.upload_autoencoder.{token}")
    upload = st.file_uploader(_("Data file"), type=["csv", "npz"], key=f"train.upload.{token}", max_upload_size=active.max_data_mb)
    if upload is None:
        st.session_state.pop(UPLOADED_DATA, None)  # the file was removed: so are its arrays
        return DataChoice(None, error=_("Upload a CSV or NPZ file to train on your own data."))
    try:
        dataset = _uploaded(upload, tuple(spec.inputs), tuple(spec.outputs), autoencoder)
    except DataError as error:
        st.error(md(error), icon=":material/error:")
        return DataChoice(None, error=str(error))
    st.caption(md(describe_source(dataset)))
    st.dataframe(preview_table(dataset), hide_index=True, key=f"train.upload_preview.{token}")
    for note in dataset.notes:
        st.caption(md(note))
    return DataChoice(None, dataset=dataset, notes=list(dataset.notes))


def _output_settings(output: OutputSettings, index: int, token: str) -> OutputSettings:
    prefix = f"train.out.{index}"
    columns = st.columns([3, 1, 3, 1])
    loss = columns[0].selectbox(
        _("Loss of '{name}'").format(name=md(output.name)),
        LOSSES,
        index=LOSSES.index(output.loss) if output.loss in LOSSES else 0,
        key=f"{prefix}.loss.{token}",
    )
    weight = columns[1].number_input(
        _("Weight"), 0.0, 100.0, float(output.loss_weight), 0.1, key=f"{prefix}.weight.{token}", help=_("the loss weight of this output")
    )
    metrics = columns[2].multiselect(
        _("Metrics"), METRICS, default=[m for m in output.metrics if m in METRICS], key=f"{prefix}.metrics.{token}"
    )
    logits = columns[3].checkbox(
        _("Logits"),
        value=output.from_logits,
        key=f"{prefix}.logits.{token}",
        help=_("the output has no softmax/sigmoid: the loss reads its values as logits, and sample predictions apply softmax for display"),
    )
    return OutputSettings(output.name, loss, float(weight), list(metrics), bool(logits))


def backend_options(current: str) -> tuple[list[str], list[str]]:
    """The backend choices offered here (fastest and the installed backends) and why any other cannot be used."""
    installed = installed_backends()
    options = [choice for choice in CHOICES if choice == FASTEST or choice in installed]
    refused = [check_choice(choice) for choice in CHOICES if choice not in options]
    if current not in options and current not in CHOICES:
        refused.append(check_choice(current))
    return options, [problem for problem in refused if problem]


def render_backend_choice(current: str, token: str, disabled: bool = False) -> str:
    """The Keras backend that trains the model: fastest (measured) or one of the installed backends."""
    options, refused = backend_options(current)
    left, right = st.columns([2, 3])
    backend = left.selectbox(
        _("Backend"),
        options,
        index=options.index(current) if current in options else 0,
        format_func=backend_name,
        key=f"train.backend.{token}",
        disabled=disabled,
        help=_(BACKEND_HELP),
    )
    for problem in refused:
        right.caption(md(problem))
    return str(backend)


def render_compile_settings(defaults: CompileSettings, token: str, disabled: bool = False) -> CompileSettings:
    """Optimizer, per-output loss/weight/metrics, batch size, epochs, split and the advanced options."""
    with st.container(border=True):
        st.markdown(_("**Compile and fit settings**"))
        top = st.columns(5)
        optimizer = top[0].selectbox(
            _("Optimizer"), OPTIMIZERS, index=OPTIMIZERS.index(defaults.optimizer), key=f"train.optimizer.{token}", disabled=disabled
        )
        learning_rate = top[1].number_input(
            _("Learning rate"), 1e-6, 10.0, float(defaults.learning_rate), format="%.5f", key=f"train.lr.{token}", disabled=disabled
        )
        batch_size = top[2].number_input(
            _("Batch size"), 1, 65536, int(defaults.batch_size), key=f"train.batch_size.{token}", disabled=disabled
        )
        epochs = top[3].number_input(_("Epochs"), 1, 1000, int(defaults.epochs), key=f"train.epochs.{token}", disabled=disabled)
        split = top[4].number_input(
            _("Validation split"),
            0.0,
            0.9,
            float(defaults.validation_split),
            0.05,
            key=f"train.validation_split.{token}",
            disabled=disabled,
        )
        backend = render_backend_choice(defaults.backend, token, disabled=disabled)
        outputs = [_output_settings(output, index, token) for index, output in enumerate(defaults.outputs)]
        with st.expander(_("More options")):
            more = st.columns(4)
            shuffle = more[0].checkbox(_("Shuffle each epoch"), defaults.shuffle, key=f"train.shuffle.{token}")
            seed = more[1].number_input(_("Seed"), 0, 2**31 - 1, int(defaults.seed), key=f"train.seed.{token}")
            early = more[2].checkbox(_("Early stopping"), defaults.early_stopping, key=f"train.early_stopping.{token}")
            patience = more[2].number_input(_("Patience (epochs)"), 1, 100, int(defaults.patience), key=f"train.patience.{token}")
            best = more[3].checkbox(
                _("Keep the best epoch's weights"),
                defaults.best_checkpoint,
                key=f"train.best.{token}",
                help=_("best checkpoint, by validation loss"),
            )
            steps = more[3].number_input(
                _("Steps per execution (0 = auto)"),
                0,
                10000,
                int(defaults.steps_per_execution),
                key=f"train.steps_per_execution.{token}",
                help=_("how many batches Keras runs per compiled call; auto keeps the charts updating several times a second"),
            )
    return CompileSettings(
        optimizer=optimizer,
        learning_rate=float(learning_rate),
        outputs=outputs,
        batch_size=int(batch_size),
        epochs=int(epochs),
        validation_split=float(split),
        shuffle=bool(shuffle),
        seed=int(seed),
        early_stopping=bool(early),
        patience=int(patience),
        best_checkpoint=bool(best),
        steps_per_execution=int(steps),
        jit_compile=defaults.jit_compile,
        validation_batch_size=defaults.validation_batch_size,
        backend=backend,
    )
