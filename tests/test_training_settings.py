"""Compile settings: the tutorial's defaults per preset, JSON round trip, full loss names, clear errors."""

from __future__ import annotations

import keras
import pytest

from studio.graph.presets import load_preset, preset_names
from studio.training.settings import (
    CompileSettings,
    OutputSettings,
    SettingsError,
    compile_arguments,
    default_settings,
    settings_from_dict,
    settings_from_json,
)


def test_mnist_defaults_are_the_tutorials():
    settings = default_settings(load_preset("mnist_mlp"))
    assert (settings.optimizer, settings.learning_rate, settings.batch_size, settings.epochs, settings.validation_split) == (
        "RMSprop",
        0.001,
        64,
        5,
        0.2,
    )
    assert [(o.name, o.loss, o.metrics) for o in settings.outputs] == [("dense_2", "sparse_categorical_crossentropy", ["accuracy"])]


def test_multi_io_defaults_are_the_tutorials():
    settings = default_settings(load_preset("multi_io"))
    assert (settings.optimizer, settings.learning_rate, settings.batch_size) == ("RMSprop", 1e-3, 32)
    assert [(o.name, o.loss, o.loss_weight) for o in settings.outputs] == [
        ("priority", "binary_crossentropy", 1.0),
        ("department", "categorical_crossentropy", 0.2),
    ]


@pytest.mark.parametrize("key", preset_names())
def test_defaults_round_trip_through_json_with_full_loss_names(key):
    settings = default_settings(load_preset(key))
    assert settings_from_json(settings.to_json()) == settings
    assert all(o.loss not in ("mse", "mae") for o in settings.outputs)


def test_aliases_become_full_names_and_bad_values_are_named():
    settings = settings_from_dict({"outputs": [{"name": "out", "loss": "mse", "metrics": ["mae", "acc"]}]})
    assert settings.outputs[0].loss == "mean_squared_error"
    assert settings.outputs[0].metrics == ["mean_absolute_error", "accuracy"]
    with pytest.raises(SettingsError, match=r"`batch_size` must be a whole number from 1 .* Received: batch_size=0"):
        settings_from_dict({"batch_size": 0})
    with pytest.raises(SettingsError, match="full loss name"):
        settings_from_dict({"outputs": [{"name": "out", "loss": "hinge_thing"}]})
    with pytest.raises(SettingsError, match=r"Unknown compile settings \['colour'\]"):
        settings_from_dict({"colour": "red"})
    with pytest.raises(SettingsError, match=r"validation_split=1.0"):
        CompileSettings(validation_split=1.0).validate()
    with pytest.raises(SettingsError, match=r"has 2 output\(s\) but the settings describe 1"):
        CompileSettings(outputs=[OutputSettings("a")]).validate(num_outputs=2)


def test_compile_arguments_single_and_multi_output():
    single = compile_arguments(default_settings(load_preset("mnist_mlp")), steps_per_execution=8)
    assert single["loss"] == "sparse_categorical_crossentropy" and single["metrics"] == ["accuracy"]
    assert single["steps_per_execution"] == 8 and isinstance(single["optimizer"], keras.optimizers.RMSprop)
    multi = compile_arguments(default_settings(load_preset("multi_io")))
    assert multi["loss"] == ["binary_crossentropy", "categorical_crossentropy"] and multi["loss_weights"] == [1.0, 0.2]
    logits = compile_arguments(default_settings(load_preset("encoder")))
    assert isinstance(logits["loss"], keras.losses.SparseCategoricalCrossentropy)
