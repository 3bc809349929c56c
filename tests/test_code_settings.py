"""Training settings read from code, merged over the studio's defaults (studio.training.code_settings)."""

from __future__ import annotations

from studio.graph.presets import load_preset
from studio.training.code_settings import settings_from_code
from studio.training.settings import default_settings


def test_what_the_code_sets_wins_and_the_rest_keeps_the_defaults() -> None:
    spec = load_preset("multi_io")
    code = {
        "optimizer": "adam", "learning_rate": 0.01, "epochs": 7,
        "outputs": [{"name": "priority", "loss": "mse", "metrics": ["acc"]}, {"name": "department", "loss_weight": 0.5}],
    }
    settings, problems = settings_from_code(spec, code)
    assert problems == []
    defaults = default_settings(spec)
    assert (settings.optimizer, settings.learning_rate, settings.epochs, settings.batch_size) == ("Adam", 0.01, 7, defaults.batch_size)
    assert (settings.outputs[0].loss, settings.outputs[0].metrics) == ("mean_squared_error", ["accuracy"])
    assert (settings.outputs[1].loss, settings.outputs[1].loss_weight) == (defaults.outputs[1].loss, 0.5)
    assert default_settings(spec).outputs[0].loss == defaults.outputs[0].loss  # the defaults were not changed


def test_settings_the_studio_cannot_use_fall_back_to_the_defaults_with_a_reason() -> None:
    spec = load_preset("mnist_mlp")
    settings, problems = settings_from_code(spec, {"optimizer": "Lion", "epochs": 3})
    assert settings.to_dict() == default_settings(spec).to_dict()
    assert len(problems) == 1 and "`optimizer` must be one of" in problems[0] and "Received: optimizer='Lion'" in problems[0]
    assert settings_from_code(spec, None) == (default_settings(spec), [])
