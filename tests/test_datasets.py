"""Datasets: the shipped real MNIST sample, unavailable downloads, the tutorial's synthetic data, defaults per preset."""

from __future__ import annotations

import numpy as np
import pytest

from studio.graph.presets import load_preset, preset_names
from studio.training import datasets
from studio.training.datasets import (
    OFFLINE_SAMPLE,
    DataError,
    DatasetUnavailable,
    as_autoencoder,
    load_dataset,
    mnist_thumbnails,
    shared_ints,
    tutorial_tickets,
)
from studio.training.default_data import default_dataset_key
from studio.training.defaults import not_trainable_message


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")


def test_offline_mnist_is_the_shipped_real_sample():
    mnist = load_dataset("mnist", prefer_offline=True)
    assert mnist.source == OFFLINE_SAMPLE and not mnist.is_full
    assert (mnist.num_train, mnist.num_test) == (4000, 1000)
    x, y = mnist.x_train[0], mnist.y_train[0]
    assert x.shape == (4000, 28, 28, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() == pytest.approx(1.0)
    assert np.bincount(mnist.y_test[0]).tolist() == [100] * 10
    assert set(np.unique(y)) == set(range(10))
    assert "LeCun" in mnist.credit and "CC BY-SA 3.0" in mnist.credit
    assert "offline sample" in mnist.describe() and "4,000 training" in mnist.describe()
    assert len(set(y[:200])) == 10, "the sample is shuffled (the shipped file is sorted by digit)"


def test_mnist_falls_back_to_the_sample_when_keras_cannot_download(monkeypatch):
    monkeypatch.delenv(datasets.OFFLINE_VARIABLE)
    monkeypatch.setattr(datasets, "_keras_cached", lambda name: False)

    def refuse(key: str, title: str):
        raise DatasetUnavailable(f"{title} is unavailable offline")

    monkeypatch.setattr(datasets, "_keras_download", refuse)
    datasets._mnist_arrays.cache_clear()
    datasets._image_set.cache_clear()
    try:
        mnist = load_dataset("mnist")
        assert mnist.source == OFFLINE_SAMPLE
        assert "could not be downloaded" in mnist.notes[0]
    finally:
        datasets._mnist_arrays.cache_clear()
        datasets._image_set.cache_clear()


@pytest.mark.parametrize("key", ["fashion_mnist", "cifar10", "fashion_mnist_autoencoder"])
def test_downloads_are_clearly_unavailable_offline(key):
    with pytest.raises(DatasetUnavailable, match="unavailable offline"):
        load_dataset(key)


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(DataError, match="Unknown dataset 'nope'.*mnist.*tickets"):
        load_dataset("nope")


def test_tutorial_tickets_match_section_3_and_follow_the_seed():
    data = tutorial_tickets(seed=3)
    body, title, tags = data.x_train
    priority, department = data.y_train
    assert data.input_names == ["body", "title", "tag"] and data.output_names == ["priority", "department"]
    assert body.shape == (1280, 100) and title.shape == (1280, 10) and tags.shape == (1280, 12)
    assert priority.shape == (1280, 1) and department.shape == (1280, 4)
    assert body.max() < 2000 and set(np.unique(tags)) <= {0.0, 1.0} and 0 <= priority.min() and priority.max() < 1
    assert np.array_equal(tutorial_tickets(seed=3).x_train[0], body)
    assert not np.array_equal(tutorial_tickets(seed=4).x_train[0], body)


def test_autoencoder_mode_and_decoder_thumbnails():
    mnist = load_dataset("mnist", prefer_offline=True)
    auto = as_autoencoder(mnist)
    assert auto.y_train[0] is auto.x_train[0] and auto.autoencoder and auto.class_names is None
    thumbs = mnist_thumbnails(prefer_offline=True)
    assert thumbs.x_train[0].shape == (4000, 16) and thumbs.y_train[0].shape == (4000, 28, 28, 1)
    assert np.allclose(thumbs.x_train[0][0].reshape(4, 4)[0, 0], mnist.x_train[0][0, :7, :7, 0].mean(), atol=1e-6)


def test_shared_ints_targets_are_lookups_in_one_hidden_table():
    data = shared_ints(seed=1)
    first, second = data.x_train
    assert first.dtype == np.int32 and first.max() < 100
    same = np.argwhere(first == second[0, 0])[0]
    assert np.allclose(data.y_train[0][same[0], same[1]], data.y_train[1][0, 0])


def test_default_data_per_preset():
    expected = {
        "mnist_mlp": "mnist",
        "encoder": "mnist",
        "decoder": "mnist_thumbnails",
        "autoencoder": "mnist_autoencoder",
        "multi_io": "tickets",
        "shared_embedding": "shared_ints",
        "vgg16_features": None,
    }
    assert {key: default_dataset_key(load_preset(key)) for key in preset_names()} == expected
    message = not_trainable_message(load_preset("vgg16_features"))
    assert message and "feature extractor" in message and "23 outputs" in message
    assert not_trainable_message(load_preset("mnist_mlp")) is None


def test_an_edited_preset_gets_data_from_its_shapes():
    spec = load_preset("mnist_mlp")
    spec.name = "my mlp"
    assert default_dataset_key(spec) == "mnist"
    assert default_dataset_key(spec, [(None, 784)]) == "mnist_autoencoder"
