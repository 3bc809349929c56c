"""The plain layer table (no Keras): type names by palette group, input arity, starter configs and aliases.

The graph core (spec checks, the edit engine) needs only this. What Keras knows of each type (its
parameters, help and construction) is derived in :mod:`studio.catalog.types`; a test checks both agree.
"""

from __future__ import annotations

import copy

from studio.i18n import N_, _

# Palette groups (the keys are stable ids, marked for the catalogue: show them with `group_label`).
GROUPS: dict[str, tuple[str, ...]] = {
    N_("Inputs"): ("Input",),
    N_("Core"): ("Dense", "Dropout", "Activation", "Embedding"),
    N_("Convolution"): ("Conv1D", "Conv2D", "Conv2DTranspose", "SeparableConv2D"),
    N_("Pooling"): (
        "MaxPooling1D",
        "MaxPooling2D",
        "AveragePooling1D",
        "AveragePooling2D",
        "GlobalMaxPooling1D",
        "GlobalMaxPooling2D",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
    ),
    N_("Reshaping"): ("Flatten", "Reshape", "Permute", "RepeatVector", "UpSampling2D", "ZeroPadding2D", "Cropping2D"),
    N_("Normalization"): ("BatchNormalization", "LayerNormalization", "Rescaling"),
    N_("Recurrent"): ("SimpleRNN", "LSTM", "GRU"),
    N_("Wrappers"): ("Bidirectional", "TimeDistributed"),
    N_("Attention"): ("MultiHeadAttention",),
    N_("Merge"): ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot"),
    N_("Applications"): ("VGG16", "VGG19", "ResNet50", "MobileNetV2"),
    N_("Models"): ("Model",),
}
TYPE_NAMES: tuple[str, ...] = tuple(name for names in GROUPS.values() for name in names)
GROUP_OF: dict[str, str] = {name: group for group, names in GROUPS.items() for name in names}
APPLICATION_TYPES = frozenset(GROUPS["Applications"])
RECURRENT_TYPES = frozenset(GROUPS["Recurrent"])
PLAIN_LAYERS: tuple[str, ...] = tuple(name for name in TYPE_NAMES if name not in APPLICATION_TYPES and name not in ("Input", "Model"))

ARITY: dict[str, tuple[int, int | None]] = {
    **{merge: (2, None) for merge in GROUPS["Merge"]},
    **{application: (0, 1) for application in APPLICATION_TYPES},
    "Input": (0, 0),
    "MultiHeadAttention": (2, 3),
    "Subtract": (2, 2),
    "Dot": (2, 2),
    "Model": (1, None),
}

STARTER_CONFIGS: dict[str, dict] = {
    "Input": {"shape": [784]},
    "Dense": {"units": 32},
    "Dropout": {"rate": 0.5},
    "Activation": {"activation": "relu"},
    "Embedding": {"input_dim": 1000, "output_dim": 64},
    **{conv: {"filters": 16, "kernel_size": 3} for conv in GROUPS["Convolution"]},
    "AveragePooling1D": {"pool_size": 2},
    "AveragePooling2D": {"pool_size": 2},
    "Reshape": {"target_shape": [28, 28, 1]},
    "Permute": {"dims": [2, 1]},
    "RepeatVector": {"n": 3},
    "Rescaling": {"scale": 1 / 255},
    **{rnn: {"units": 32} for rnn in RECURRENT_TYPES},
    "Bidirectional": {"layer": {"type": "LSTM", "config": {"units": 32}}},
    "TimeDistributed": {"layer": {"type": "Dense", "config": {"units": 32}}},
    "MultiHeadAttention": {"num_heads": 2, "key_dim": 16},
    "Dot": {"axes": 1},
    **{application: {"weights": None, "include_top": True} for application in APPLICATION_TYPES},
}

# What each type does, one sentence for the palette and the node editor (Keras's docstring summary, in our catalogue so
# it can be translated); `studio.catalog.types.LayerType.summary` shows it in the current language.
SUMMARIES: dict[str, str] = {
    "Input": N_("Used to instantiate a Keras tensor."),
    "Dense": N_("Just your regular densely-connected NN layer."),
    "Dropout": N_("Applies dropout to the input."),
    "Activation": N_("Applies an activation function to an output."),
    "Embedding": N_("Turns nonnegative integers (indexes) into dense vectors of fixed size."),
    "Conv1D": N_("1D convolution layer (e.g. temporal convolution)."),
    "Conv2D": N_("2D convolution layer."),
    "Conv2DTranspose": N_("2D transposed convolution layer."),
    "SeparableConv2D": N_("2D separable convolution layer."),
    "MaxPooling1D": N_("Max pooling operation for 1D temporal data."),
    "MaxPooling2D": N_("Max pooling operation for 2D spatial data."),
    "AveragePooling1D": N_("Average pooling for temporal data."),
    "AveragePooling2D": N_("Average pooling operation for 2D spatial data."),
    "GlobalMaxPooling1D": N_("Global max pooling operation for temporal data."),
    "GlobalMaxPooling2D": N_("Global max pooling operation for 2D data."),
    "GlobalAveragePooling1D": N_("Global average pooling operation for temporal data."),
    "GlobalAveragePooling2D": N_("Global average pooling operation for 2D data."),
    "Flatten": N_("Flattens the input."),
    "Reshape": N_("Layer that reshapes inputs into the given shape."),
    "Permute": N_("Permutes the dimensions of the input according to a given pattern."),
    "RepeatVector": N_("Repeats the input n times."),
    "UpSampling2D": N_("Upsampling layer for 2D inputs."),
    "ZeroPadding2D": N_("Zero-padding layer for 2D input (e.g. picture)."),
    "Cropping2D": N_("Cropping layer for 2D input (e.g. picture)."),
    "BatchNormalization": N_("Layer that normalizes its inputs."),
    "LayerNormalization": N_("Layer normalization layer (Ba et al., 2016)."),
    "Rescaling": N_("A preprocessing layer which rescales input values to a new range."),
    "SimpleRNN": N_("Fully-connected RNN where the output is to be fed back as the new input."),
    "LSTM": N_("Long Short-Term Memory layer - Hochreiter 1997."),
    "GRU": N_("Gated Recurrent Unit - Cho et al. 2014."),
    "Bidirectional": N_("Bidirectional wrapper for RNNs."),
    "TimeDistributed": N_("This wrapper allows to apply a layer to every temporal slice of an input."),
    "MultiHeadAttention": N_("MultiHeadAttention layer."),
    "Concatenate": N_("Concatenates a list of inputs."),
    "Add": N_("Performs elementwise addition operation."),
    "Subtract": N_("Performs elementwise subtraction."),
    "Multiply": N_("Performs elementwise multiplication."),
    "Average": N_("Averages a list of inputs element-wise."),
    "Maximum": N_("Computes element-wise maximum on a list of inputs."),
    "Minimum": N_("Computes elementwise minimum on a list of inputs."),
    "Dot": N_("Computes element-wise dot product of two tensors."),
    "VGG16": N_("Instantiates the VGG16 model."),
    "VGG19": N_("Instantiates the VGG19 model."),
    "ResNet50": N_("Instantiates the ResNet50 architecture."),
    "MobileNetV2": N_("Instantiates the MobileNetV2 architecture."),
    "Model": N_("A nested model whose layers are another graph spec (built by the graph builder)."),
}

# Other names Keras gives the same classes (keras.layers.MaxPool2D is MaxPooling2D); a test checks this list against Keras.
ALIASES: dict[str, str] = {
    "InputLayer": "Input",
    "AvgPool1D": "AveragePooling1D",
    "AvgPool2D": "AveragePooling2D",
    "MaxPool1D": "MaxPooling1D",
    "MaxPool2D": "MaxPooling2D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "Convolution2DTranspose": "Conv2DTranspose",
    "SeparableConvolution2D": "SeparableConv2D",
}
_BY_LOWER_NAME = {name.lower(): name for name in [*TYPE_NAMES, *ALIASES]}


def group_label(group: str) -> str:
    """A palette group's name in the current language ('Core' -> '核心层')."""
    return _(group)


def type_summary(name: str) -> str | None:
    """What a type does, in the current language (None for a type without a summary here)."""
    text = SUMMARIES.get(canonical_type(name))
    return _(text) if text else None


def canonical_type(name: str) -> str:
    """Map a Keras alias (MaxPool2D, AvgPool1D, ...) or any capitalisation to its catalogue name; unknown names come back unchanged."""
    if name in GROUP_OF:
        return name
    resolved = ALIASES.get(name) or _BY_LOWER_NAME.get(name.lower(), name)
    return ALIASES.get(resolved, resolved)


def is_known_type(name: str) -> bool:
    """Whether `name` (or an alias of it) is a catalogue type."""
    return canonical_type(name) in GROUP_OF


def require_type(name: str) -> str:
    """The catalogue name of `name`; KeyError naming the valid types if it is not one."""
    canonical = canonical_type(name)
    if canonical not in GROUP_OF:
        raise KeyError(_("Unknown layer type '{type}'; valid types: {valid}").format(type=name, valid=", ".join(TYPE_NAMES)))
    return canonical


def type_arity(name: str) -> tuple[int, int | None]:
    """(fewest, most) inputs a call of this type takes; most is None for 'any number'."""
    return ARITY.get(require_type(name), (1, 1))


def palette_groups() -> dict[str, list[str]]:
    """Palette group -> type names, in palette order."""
    return {group: list(names) for group, names in GROUPS.items()}


def default_config(type_name: str) -> dict:
    """The starter config of a new node: required parameters filled in, optional ones omitted."""
    return copy.deepcopy(STARTER_CONFIGS.get(require_type(type_name), {}))
