"""Every trainable preset trains one short epoch on its default data; VGG16 says why it is not trained."""

from __future__ import annotations

import pytest

from studio.graph.presets import load_preset
from studio.training import datasets
from studio.training.default_data import default_dataset_key
from studio.training.defaults import PRESET_DATA, not_trainable_message
from studio.training.job import FINISHED, TrainingRequest, train_now
from studio.training.settings import default_settings

SAMPLES = {"mnist_mlp": 1000, "encoder": 200, "decoder": 200, "autoencoder": 200, "multi_io": 64, "shared_embedding": 256}


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")


@pytest.mark.parametrize("key", list(SAMPLES))
def test_each_preset_trains_one_epoch_on_its_default_data(key):
    spec = load_preset(key)
    settings = default_settings(spec, PRESET_DATA[key])
    settings.epochs = 1
    request = TrainingRequest(spec, settings, dataset_key=default_dataset_key(spec), prefer_offline=True, max_train_samples=SAMPLES[key])
    job = train_now(request)
    assert job.status == FINISHED, job.describe()
    epoch = job.log.epochs()[0]
    assert epoch["loss"] > 0 and epoch["epoch_time_s"] > 0
    assert any(record["global_step"] > 0 for record in job.snapshot().batches)
    evaluation = job.evaluation
    assert [output.name for output in evaluation.outputs] == list(spec.outputs)
    assert all(output.loss is not None for output in evaluation.outputs), "per-head results"
    kinds = {output.kind for output in evaluation.outputs}
    expected = {"mnist_mlp": "classifier", "encoder": "classifier", "decoder": "image", "autoencoder": "image"}
    if key in expected:
        assert kinds == {expected[key]}
    if key == "autoencoder":
        pair = evaluation.outputs[0].images[0]
        assert pair["target"].shape == pair["prediction"].shape == (28, 28)
    if key == "shared_embedding":
        assert {"feat1_loss", "feat2_loss"} <= set(epoch), "each call of the shared layer gets its own loss"


def test_vgg16_features_is_feature_extraction_only():
    spec = load_preset("vgg16_features")
    assert default_dataset_key(spec) is None
    assert "not trained" in not_trainable_message(spec)
