"""Parameter derivation for the layer catalogue: Keras signatures and docstrings -> `Param`s."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

from studio.backend import import_tensorflow_quietly
from studio.catalog.table import GROUP_OF, SUMMARIES
from studio.i18n import DEFAULT_LANGUAGE, N_, _, current_language, keras_says

import_tensorflow_quietly()

import keras  # noqa: E402

PARAM_KINDS = (
    "int",
    "float",
    "bool",
    "str",
    "choice",
    "shape",
    "int_or_tuple",
    "int_list",
    "optional_int",
    "optional_float",
    "layer",
    "json",
)


@dataclass(frozen=True)
class Param:
    """One constructor keyword of a layer type, as shown in the parameter form.

    `doc` is the English help as derived (Keras's docstring sentence, or ours); `help_id` the message id of a
    translated help (see `TRANSLATED_HELP`). Show `help`: it is in the current language.
    """

    name: str
    kind: str
    default: object
    required: bool
    choices: tuple | None
    doc: str
    help_id: str | None = None

    @property
    def help(self) -> str:
        """The help in the current language: the translated help, or Keras's own words marked as Keras's."""
        if self.help_id:
            return _(self.help_id)
        if self.doc in _OUR_HELP:
            return _(self.doc)
        if self.doc == GENERIC_HELP.format(name=self.name):
            return _(GENERIC_HELP).format(name=self.name)
        return self.doc if current_language() == DEFAULT_LANGUAGE else keras_says(self.doc)


@dataclass(frozen=True)
class LayerType:
    """A palette entry: a Keras layer (or application) type and its parameters.

    `group` is the palette group's id (show it with `studio.catalog.table.group_label`); `doc` the first sentence of
    Keras's docstring. Show `summary`: it is in the current language.
    """

    name: str
    group: str
    doc: str
    params: tuple[Param, ...]
    min_inputs: int
    max_inputs: int | None

    @property
    def summary(self) -> str:
        """What the type does, in the current language (Keras's docstring summary, translated by the catalogue)."""
        if self.name in SUMMARIES:
            return _(SUMMARIES[self.name])
        return self.doc if current_language() == DEFAULT_LANGUAGE else keras_says(self.doc)

    def param(self, name: str) -> Param:
        """Return the parameter called `name` (KeyError if the type has none)."""
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(_("{type} has no parameter '{name}'").format(type=self.name, name=name))


_NOT_ACTIVATIONS = {"get", "serialize", "deserialize"}
ACTIVATIONS: tuple[str, ...] = tuple(
    name
    for name in dir(keras.activations)
    if not name.startswith("_") and name not in _NOT_ACTIVATIONS and callable(getattr(keras.activations, name))
)
DTYPES = ("float32", "float16", "bfloat16", "float64", "int32", "int64", "int16", "int8", "uint8", "bool")

# Keywords never shown: internals, weight arrays, or things the builder owns.
SKIPPED = {
    "self",
    "name",
    "dtype",
    "weights",
    "backward_layer",
    "lora_rank",
    "lora_alpha",
    "quantization_config",
    "input_tensor",
    "tensor",
    "batch_shape",
    "ragged",
    "optional",
}
POSITIVE_INTS = {
    "units",
    "filters",
    "n",
    "input_dim",
    "output_dim",
    "num_heads",
    "key_dim",
    "classes",
    "groups",
    "depth_multiplier",
}
# Kinds by keyword name, for keywords whose default does not tell (required or None).
KIND_BY_NAME = {
    "units": "int",
    "filters": "int",
    "n": "int",
    "input_dim": "int",
    "output_dim": "int",
    "num_heads": "int",
    "key_dim": "int",
    "rate": "float",
    "kernel_size": "int_or_tuple",
    "strides": "int_or_tuple",
    "pool_size": "int_or_tuple",
    "size": "int_or_tuple",
    "dilation_rate": "int_or_tuple",
    "output_padding": "int_or_tuple",
    "cropping": "int_or_tuple",
    "attention_axes": "int_or_tuple",
    "output_shape": "int_or_tuple",
    "target_shape": "shape",
    "shape": "shape",
    "input_shape": "shape",
    "noise_shape": "shape",
    "dims": "int_list",
    "axes": "int_or_tuple",
    "layer": "layer",
    "seed": "optional_int",
    "value_dim": "optional_int",
    "sliding_window": "optional_int",
    "batch_size": "optional_int",
}
# (type name or "*", keyword) -> Param field overrides, where derivation cannot know.
OVERRIDES: dict[tuple[str, str], dict] = {
    ("*", "padding"): {"kind": "choice", "choices": ("valid", "same")},
    ("Conv1D", "padding"): {"kind": "choice", "choices": ("valid", "same", "causal")},
    ("ZeroPadding2D", "padding"): {"kind": "int_or_tuple", "choices": None},
    ("LayerNormalization", "axis"): {"kind": "int_or_tuple"},
    ("*", "data_format"): {"kind": "choice", "choices": (None, "channels_last", "channels_first")},
    ("*", "activation"): {"kind": "choice", "choices": (None, *ACTIVATIONS)},
    ("Activation", "activation"): {"kind": "choice", "choices": ACTIVATIONS},
    ("*", "recurrent_activation"): {"kind": "choice", "choices": (None, *ACTIVATIONS)},
    ("*", "classifier_activation"): {"kind": "choice", "choices": (None, *ACTIVATIONS)},
    ("*", "interpolation"): {
        "kind": "choice",
        "choices": ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"),
    },
    ("*", "merge_mode"): {"kind": "choice", "choices": ("concat", "sum", "mul", "ave", None)},
    ("*", "use_cudnn"): {"kind": "choice", "choices": ("auto", True, False)},
    ("*", "flash_attention"): {"kind": "choice", "choices": (None, True, False)},
    ("*", "pooling"): {"kind": "choice", "choices": (None, "avg", "max")},
    ("*", "weights"): {"kind": "choice", "choices": (None, "imagenet"), "default": None},
    ("Input", "dtype"): {"kind": "choice", "choices": DTYPES, "default": "float32"},
    ("Input", "sparse"): {"kind": "bool", "default": False},
    ("Input", "shape"): {"required": True},
    ("Rescaling", "scale"): {"kind": "float"},
}
# Help for keywords the docstrings do not describe (ours, so translated).
HELP_FALLBACK = {
    "seed": N_("Random seed for the layer's random operations."),
    "renorm_clipping": N_("Dictionary of clipping bounds (rmax, rmin, dmax) used with renorm."),
    "synchronized": N_("Whether to synchronise batch statistics across replicas when training distributed."),
    "renorm": N_("Whether to use Batch Renormalization."),
    "renorm_momentum": N_("Momentum used to update the moving means and standard deviations with renorm."),
    "flash_attention": N_("Whether to use flash attention (None lets Keras decide)."),
    "activity_regularizer": N_("Regularizer function applied to the output of the layer."),
    "outputs": N_("Inner layer names whose outputs this block exposes (default: the application's own output)."),
    "frozen": N_("Inner layer names made non-trainable (trainable=False)."),
}
_OUR_HELP = frozenset(HELP_FALLBACK.values())
GENERIC_HELP = N_("Keras `{name}` argument.")

# Translated help of the parameters users meet most, in both languages through the catalogue; every other parameter
# shows Keras's docstring sentence as Keras wrote it (marked as Keras's words in Chinese).
# To translate another one: add "keyword" (every type), "Group:keyword" or "Type:keyword" (the most specific wins)
# with its English help in N_(...) here, then its Chinese in the PO file (scripts/i18n.py merge).
TRANSLATED_HELP: dict[str, str] = {
    "units": N_("Positive integer, dimensionality of the output space."),
    "activation": N_("Activation function to use."),
    "use_bias": N_("Boolean, whether the layer uses a bias vector."),
    "filters": N_("Integer, the dimension of the output space (the number of filters in the convolution)."),
    "kernel_size": N_("Integer or list of integers, specifying the size of the convolution window."),
    "strides": N_("Integer or list of integers, specifying the stride length of the convolution."),
    "Pooling:strides": N_("Integer, list of integers or None: how far the pooling window moves at each step (None: pool_size)."),
    "padding": N_('"valid" (no padding) or "same" (pad evenly so that, with strides 1, the output has the size of the input).'),
    "Conv1D:padding": N_('"valid" (no padding), "same" (the output keeps the input\'s length) or "causal" (no output sees later steps).'),
    "ZeroPadding2D:padding": N_("Integer, or list of 2 integers, or list of 2 lists of 2 integers: the zeros added at the edges."),
    "pool_size": N_("Integer or list of integers, size of the pooling window."),
    "rate": N_("Float between 0 and 1. Fraction of the input units to drop."),
    "input_dim": N_("Integer. Size of the vocabulary, i.e. maximum integer index + 1."),
    "output_dim": N_("Integer. Dimension of the dense embedding."),
    "shape": N_("A shape tuple (tuple of integers or `None` objects), not including the batch size."),
    "dtype": N_('The data type expected by the input, as a string (e.g. "float32", "int32"...)'),
    "batch_size": N_("Optional static batch size (integer)."),
    "return_sequences": N_("Boolean. Whether to return the last output in the output sequence, or the full sequence."),
    "return_state": N_("Boolean. Whether to return the last state in addition to the output."),
    "dropout": N_("Float between 0 and 1. Fraction of the units to drop for the linear transformation of the inputs."),
    "MultiHeadAttention:dropout": N_("Dropout probability."),
    "recurrent_dropout": N_("Float between 0 and 1. Fraction of the units to drop for the linear transformation of the recurrent state."),
    "Concatenate:axis": N_("Axis along which to concatenate."),
    "BatchNormalization:axis": N_("Integer, the axis that should be normalized (typically the features axis)."),
    "LayerNormalization:axis": N_("Integer or list of integers. The axis or axes to normalize across."),
    "target_shape": N_("Target shape: the shape of each sample after reshaping, not including the batch size, e.g. [28, 28, 1]."),
    "dims": N_("List of integers: the permutation pattern, without the batch dimension (axes are numbered from 1)."),
    "n": N_("Integer, repetition factor."),
    "size": N_("Integer, or list of 2 integers. The upsampling factors for rows and columns."),
    "Rescaling:scale": N_("Float, the scale to apply to the inputs."),
    "offset": N_("Float, the offset to apply to the inputs."),
    "num_heads": N_("Number of attention heads."),
    "key_dim": N_("Size of each attention head for query and key."),
    "axes": N_("Integer or list of integers, axis or axes along which to take the dot product."),
    "Bidirectional:layer": N_("The recurrent layer to run in both directions (LSTM, GRU or SimpleRNN) and its config."),
    "TimeDistributed:layer": N_("The layer to apply to every time step, and its config."),
    "merge_mode": N_("Mode by which outputs of the forward and backward RNNs will be combined."),
    "include_top": N_("Boolean, whether to include the fully-connected layers at the top of the network."),
    "weights": N_('None (random initialization) or "imagenet" (pre-training on ImageNet).'),
    "pooling": N_("Optional pooling mode for feature extraction when `include_top` is `False`."),
}

_ARGS_HEADER = re.compile(r"^(\s*)(Args|Arguments):\s*$")
_ENTRY = re.compile(r"^(\w+)(?:\s*\([^)]*\))?:\s*(.*)$")
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bie)(?<!\betc)(?<!\bvs)(?<!\bal)\.(?=\s|$)")
# A first sentence that only names a type ("Integer.", "Boolean (default `True`).") gets the next one too.
_TYPE_ONLY = re.compile(r"^(an? |optional )?(positive )?`?(int|integer|float|bool|boolean|str|string|tuple|list)\b", re.IGNORECASE)


def first_sentence(text: str) -> str:
    """Collapse whitespace and cut `text` after its first sentence (two when the first only names a type)."""
    text = " ".join(text.split())
    match = _SENTENCE_END.search(text)
    end = match.end() if match else len(text)
    if match and _TYPE_ONLY.match(text) and end < 40:
        second = _SENTENCE_END.search(text, end)
        end = second.end() if second else len(text)
    return re.sub(r"\.{2,}$", ".", text[:end]).strip()


def docstring_args(obj: object) -> dict[str, str]:
    """Parse the `Args:` section of `obj`'s docstring into {keyword: full text}."""
    lines = (inspect.getdoc(obj) or "").splitlines()
    entries: dict[str, str] = {}
    for index, line in enumerate(lines):  # noqa: B007 - index is used after the loop
        header = _ARGS_HEADER.match(line)
        if header:
            break
    else:
        return entries
    base = len(header.group(1))
    entry_indent: int | None = None
    current: str | None = None
    for line in lines[index + 1 :]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= base:
            break
        if entry_indent is None:
            entry_indent = indent
        if indent < entry_indent:
            break
        match = _ENTRY.match(line.strip()) if indent == entry_indent else None
        if match:
            current = match.group(1)
            entries[current] = match.group(2)
        elif current is not None:
            entries[current] += " " + line.strip()
    return entries


def docstring_summary(obj: object) -> str:
    """First sentence of `obj`'s docstring."""
    paragraph = (inspect.getdoc(obj) or "").split("\n\n")[0]
    return first_sentence(paragraph) or getattr(obj, "__name__", "")


def _help_texts(target: Callable) -> dict[str, str]:
    """Args texts of `target` and (for classes) its Keras base classes, nearest first."""
    sources = inspect.getmro(target) if inspect.isclass(target) else (target,)
    texts: dict[str, str] = {}
    for source in sources:
        for key, value in docstring_args(source).items():
            texts.setdefault(key, value)
    return texts


def _kind_of(name: str, default: object, required: bool) -> str:
    """Infer a parameter kind from its keyword name and default value."""
    if name in KIND_BY_NAME:
        return KIND_BY_NAME[name]
    if required or default is None:
        return "json"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "json" if name.endswith(("_initializer", "_regularizer", "_constraint")) else "str"
    if isinstance(default, (tuple, list)):
        return "int_or_tuple"
    return "json"


def derive_params(type_name: str, target: Callable, keep: frozenset[str] = frozenset(), extra: tuple[Param, ...] = ()) -> tuple[Param, ...]:
    """Build the `Param`s of `target` (a layer class or factory) from its signature and docstring."""
    function = target.__init__ if inspect.isclass(target) else target
    texts = _help_texts(target)
    params = []
    for keyword in inspect.signature(function).parameters.values():
        name = keyword.name
        if keyword.kind in (keyword.VAR_KEYWORD, keyword.VAR_POSITIONAL):
            continue
        if name in SKIPPED and name not in keep:
            continue
        required = keyword.default is inspect.Parameter.empty
        default = None if required else to_json(keyword.default)
        fields = {
            "name": name,
            "kind": _kind_of(name, default, required),
            "default": default,
            "required": required,
            "choices": None,
            "doc": first_sentence(texts.get(name, "")) or HELP_FALLBACK.get(name, GENERIC_HELP.format(name=name)),
            "help_id": translated_help(type_name, name),
        }
        fields.update(OVERRIDES.get(("*", name), {}))
        fields.update(OVERRIDES.get((type_name, name), {}))
        params.append(Param(**fields))
    return tuple(params) + extra


def translated_help(type_name: str, name: str) -> str | None:
    """The message id of a keyword's translated help (`TRANSLATED_HELP`: type, then group, then any type), or None."""
    for key in (f"{type_name}:{name}", f"{GROUP_OF.get(type_name, '')}:{name}", name):
        if key in TRANSLATED_HELP:
            return TRANSLATED_HELP[key]
    return None


def check_value(type_name: str, param: Param, value: object) -> object:
    """Validate one JSON value against `param`; return it in constructor form (lists -> tuples)."""

    def fail(expected: str) -> ValueError:
        message = _("`{name}` of {type} must be {expected}. Received: {name}={value}")
        return ValueError(message.format(name=param.name, type=type_name, expected=expected, value=repr(value)))

    kind = param.kind
    if value is None and (param.default is None and not param.required or kind.startswith("optional")):
        return None
    if kind == "choice":
        if not any(type(value) is type(choice) and value == choice for choice in param.choices):
            raise fail(_("one of {choices}").format(choices=", ".join(repr(choice) for choice in param.choices)))
        return value
    if kind in ("int", "optional_int"):
        if not _is_int(value) or (param.name in POSITIVE_INTS and value <= 0):
            raise fail(_("a positive integer") if param.name in POSITIVE_INTS else _("an integer"))
        return value
    if kind in ("float", "optional_float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail(_("a number"))
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise fail(_("true or false"))
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise fail(_("a string"))
        return value
    if kind == "shape":
        if not isinstance(value, (list, tuple)) or not all(item is None or (_is_int(item) and item > 0) for item in value):
            raise fail(_("a list of positive integers or nulls, e.g. [28, 28, 1]"))
        return tuple(value)
    if kind == "int_list":
        if not isinstance(value, (list, tuple)) or not all(_is_int(item) for item in value):
            raise fail(_("a list of integers, e.g. [2, 1]"))
        return tuple(value)
    if kind == "int_or_tuple":
        if not _is_int_tree(value):
            raise fail(_("an integer or a list of integers, e.g. 3 or [3, 3]"))
        return _to_tuples(value)
    return value


def _is_int(value: object) -> bool:
    """True for ints that are not bools."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_int_tree(value: object) -> bool:
    """True for an int or a (nested) non-empty list of ints."""
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_is_int_tree(item) for item in value)
    return _is_int(value)


def _to_tuples(value: object) -> object:
    """Lists -> tuples, recursively."""
    if isinstance(value, (list, tuple)):
        return tuple(_to_tuples(item) for item in value)
    return value


def to_json(value: object) -> object:
    """Tuples -> lists and numpy scalars -> Python, recursively (get_config output -> spec JSON)."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def scalar_form(value: object) -> int | None:
    """The single int of a (nested) list whose leaves are all that int, else None."""
    leaves, pending = [], [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        else:
            leaves.append(item)
    return leaves[0] if isinstance(value, list) and leaves and len(set(leaves)) == 1 else None
