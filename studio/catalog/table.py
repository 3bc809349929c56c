"""The plain layer table (no Keras): type names by palette group, input arity, starter configs and aliases.

The graph core (spec checks, the edit engine) needs only this. What Keras knows of each type (its
parameters, help and construction) is derived in :mod:`studio.catalog.types`; a test checks both agree.
"""

from __future__ import annotations

import copy

GROUPS: dict[str, tuple[str, ...]] = {
    "Inputs": ("Input",),
    "Core": ("Dense", "Dropout", "Activation", "Embedding"),
    "Convolution": ("Conv1D", "Conv2D", "Conv2DTranspose", "SeparableConv2D"),
    "Pooling": (
        "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    ),
    "Reshaping": ("Flatten", "Reshape", "Permute", "RepeatVector", "UpSampling2D", "ZeroPadding2D", "Cropping2D"),
    "Normalization": ("BatchNormalization", "LayerNormalization", "Rescaling"),
    "Recurrent": ("SimpleRNN", "LSTM", "GRU"),
    "Wrappers": ("Bidirectional", "TimeDistributed"),
    "Attention": ("MultiHeadAttention",),
    "Merge": ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot"),
    "Applications": ("VGG16", "VGG19", "ResNet50", "MobileNetV2"),
    "Models": ("Model",),
}
TYPE_NAMES: tuple[str, ...] = tuple(name for names in GROUPS.values() for name in names)
GROUP_OF: dict[str, str] = {name: group for group, names in GROUPS.items() for name in names}
APPLICATION_TYPES = frozenset(GROUPS["Applications"])
RECURRENT_TYPES = frozenset(GROUPS["Recurrent"])
PLAIN_LAYERS: tuple[str, ...] = tuple(name for name in TYPE_NAMES if name not in APPLICATION_TYPES and name not in ("Input", "Model"))

ARITY: dict[str, tuple[int, int | None]] = {
    **{merge: (2, None) for merge in GROUPS["Merge"]},
    **{application: (0, 1) for application in APPLICATION_TYPES},
    "Input": (0, 0), "MultiHeadAttention": (2, 3), "Subtract": (2, 2), "Dot": (2, 2), "Model": (1, None),
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

# Other names Keras gives the same classes (keras.layers.MaxPool2D is MaxPooling2D); a test checks this list against Keras.
ALIASES: dict[str, str] = {
    "InputLayer": "Input",
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D", "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution2DTranspose": "Conv2DTranspose",
    "SeparableConvolution2D": "SeparableConv2D",
}
_BY_LOWER_NAME = {name.lower(): name for name in [*TYPE_NAMES, *ALIASES]}


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
        raise KeyError(f"Unknown layer type '{name}'; valid types: {', '.join(TYPE_NAMES)}")
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
