"""Sensible defaults per example model, and a training job that speaks its session's language.

- the encoder (a feature extractor) trains on digit labels with its 16 numbers read as logits, and says so plainly;
- the autoencoder (and any model whose output has the input's shape) reconstructs its input with MSE;
- sample predictions never show a probability above 100%: logits get softmax for display, other scores stay scores;
- a modified tutorial model keeps its data and loss weights while they fit, and names what no longer fits;
- a job started in Chinese reports in Chinese, on its own worker thread.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from components.training.evaluation import CONFIDENCE_NOTES, confidence_text, sample_caption
from studio.graph.presets import load_preset
from studio.i18n import translate_in, use_language
from studio.training import datasets
from studio.training.default_data import explain_default_data
from studio.training.defaults import origin_preset
from studio.training.evaluation import PROBABILITY, SCORE, SIGMOID, SOFTMAX, OutputEvaluation, as_probabilities
from studio.training.job import FAILED, QUEUED, TrainingRequest
from studio.training.queue import JobRegistry
from studio.training.settings import default_settings, settings_report

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")


def output_shapes(spec) -> list[tuple]:
    from studio.model.build import build_model

    return [tuple(tensor.shape) for tensor in build_model(spec).outputs]


# --- the encoder and the autoencoder -------------------------------------------------------------


def test_the_encoder_trains_on_labels_as_logits_and_says_plainly_what_that_means():
    spec = load_preset("encoder")
    explained = explain_default_data(spec)
    assert explained.key == "mnist" and explained.preset == "encoder" and not explained.modified
    reason = explained.reason
    assert "feature extractor" in reason and "16 numbers" in reason and "logits" in reason
    assert "only the first 10 are digits" in reason and "**autoencoder**" in reason
    settings = default_settings(spec, "mnist")
    assert settings.outputs[0].from_logits and settings.outputs[0].loss == "sparse_categorical_crossentropy"


def test_the_autoencoder_reconstructs_its_input_with_mse():
    spec = load_preset("autoencoder")
    explained = explain_default_data(spec)
    assert explained.key == "mnist_autoencoder" and "its own target" in explained.reason
    assert default_settings(spec, explained.key).outputs[0].loss == "mean_squared_error"


def test_a_model_whose_output_has_the_input_shape_trains_as_an_autoencoder():
    spec = load_preset("mnist_mlp")
    spec.layer("dense_2").config.update(units=784, activation="sigmoid")
    explained = explain_default_data(spec, output_shapes(spec))
    assert explained.key == "mnist_autoencoder" and "autoencoder" in explained.reason
    assert default_settings(spec, "mnist_autoencoder").outputs[0].loss == "mean_squared_error"


def test_every_preset_explains_its_default_in_chinese_too():
    for key in ("mnist_mlp", "encoder", "decoder", "autoencoder", "multi_io", "shared_embedding"):
        with use_language("zh"):
            reason = explain_default_data(load_preset(key)).reason
        assert reason and CHINESE.search(reason), key


# --- never above 100% ------------------------------------------------------------------------------


def test_logits_get_softmax_for_display_and_raw_scores_stay_scores():
    logits = np.array([[6.26, 1.0, -2.0], [0.1, 0.2, 3.0]], dtype=np.float32)
    shown, kind = as_probabilities(logits, from_logits=True)
    assert kind == SOFTMAX and shown.max() <= 1.0 and np.allclose(shown.sum(axis=1), 1.0)
    shown, kind = as_probabilities(logits, from_logits=False)
    assert kind == SCORE and np.array_equal(shown, logits)
    probabilities = np.array([[0.7, 0.2, 0.1]], dtype=np.float32)
    assert as_probabilities(probabilities, from_logits=False)[1] == PROBABILITY
    assert as_probabilities(np.array([[2.0]]), from_logits=True, binary=True)[1] == SIGMOID


def test_a_sample_never_reads_above_100_percent():
    scores = OutputEvaluation("dense", "classifier", confidence=SCORE, class_names=[str(i) for i in range(10)])
    caption = sample_caption(scores, {"true": 1, "predicted": 1, "confidence": 6.26})
    assert caption == "✓ 1 (score 6.26), true 1" and "%" not in caption
    softmaxed = OutputEvaluation("dense", "classifier", confidence=SOFTMAX)
    assert confidence_text(softmaxed, 0.62) == "62%"
    assert "softmax" in CONFIDENCE_NOTES[SOFTMAX] and "raw scores" in CONFIDENCE_NOTES[SCORE]
    with use_language("zh"):
        assert confidence_text(scores, 6.26) == "分数 6.26"


def test_the_encoder_evaluation_shows_probabilities_from_its_logits():
    from studio.training.job import FINISHED, train_now

    spec = load_preset("encoder")
    settings = default_settings(spec, "mnist")
    settings.epochs = 1
    job = train_now(TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=200))
    assert job.status == FINISHED, job.describe()
    output = job.evaluation.outputs[0]
    assert output.confidence == SOFTMAX
    assert all(0.0 <= sample["confidence"] <= 1.0 for sample in output.samples)


# --- a modified tutorial model ---------------------------------------------------------------------


def test_a_modified_multi_io_keeps_its_data_and_loss_weights_while_they_fit():
    spec = load_preset("multi_io")
    spec.layer("lstm").config["units"] = 16  # a change inside: shapes at the outputs stay
    assert origin_preset(spec) == "multi_io"
    explained = explain_default_data(spec, output_shapes(spec))
    assert explained.key == "tickets" and explained.modified and not explained.misfits
    assert "still fits" in explained.reason
    settings, notes = settings_report(spec, "tickets")
    assert [output.loss_weight for output in settings.outputs] == [1.0, 0.2] and notes == []
    assert settings.batch_size == 32 and settings.validation_split == 0.0


def test_a_modified_multi_io_says_which_output_no_longer_fits_and_why():
    spec = load_preset("multi_io")
    spec.layer("department").config["units"] = 8
    explained = explain_default_data(spec, output_shapes(spec))
    assert explained.key is None and len(explained.misfits) == 1
    misfit = explained.misfits[0]
    assert "Output 'department' expects samples of shape (8,)" in misfit and "gives samples of shape (4,)" in misfit
    assert "`model`" in misfit and "no longer fits" in misfit
    settings, notes = settings_report(spec, "tickets")  # the user picks the tickets anyway: the weights stay
    assert [output.loss_weight for output in settings.outputs] == [1.0, 0.2]


def test_a_removed_output_and_a_new_output_are_named_with_their_losses():
    spec = load_preset("multi_io")
    spec.outputs = ["department"]
    settings, notes = settings_report(spec, "tickets")
    assert [(output.name, output.loss, output.loss_weight) for output in settings.outputs] == [
        ("department", "categorical_crossentropy", 0.2)
    ]
    assert notes == ["The tutorial's output 'priority' is gone, and with it its loss binary_crossentropy (weight 1)."]
    explained = explain_default_data(spec, output_shapes(spec))
    assert explained.misfits and "The model has 1 output(s) (department)" in explained.misfits[0]
    spec = load_preset("multi_io")
    spec.outputs = ["priority", "department", "concatenate"]
    settings, notes = settings_report(spec, "tickets")
    assert [output.loss_weight for output in settings.outputs][:2] == [1.0, 0.2]
    assert any("Output 'concatenate' is new" in note and "mean_squared_error" in note for note in notes)


def test_a_removed_softmax_makes_the_loss_read_logits_and_says_so():
    spec = load_preset("mnist_mlp")
    spec.layer("dense_2").config["activation"] = "linear"
    explained = explain_default_data(spec, output_shapes(spec))
    assert explained.key == "mnist" and explained.modified
    settings, notes = settings_report(spec, "mnist")
    assert settings.outputs[0].from_logits and settings.outputs[0].loss == "sparse_categorical_crossentropy"
    assert notes == [
        "Output 'dense_2' has no softmax any more: its loss sparse_categorical_crossentropy now reads the outputs as logits "
        "(from_logits=True)."
    ]


# --- a job speaks its session's language ---------------------------------------------------------


def test_a_job_started_in_chinese_reports_in_chinese():
    registry = JobRegistry()
    try:
        spec = load_preset("mnist_mlp")
        with use_language("zh"):
            request = TrainingRequest(spec, default_settings(spec), dataset_key="tickets", prefer_offline=True)
            job = registry.submit(request)
        assert job.language == "zh"
        deadline = time.monotonic() + 120
        while not job.done.is_set():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.05)
        assert job.status == FAILED
        assert job.error.startswith("模型有 1 个输入（img）"), job.error  # written on the worker thread, in Chinese
        english = registry.submit(TrainingRequest(spec, default_settings(spec), dataset_key="tickets", prefer_offline=True))
        assert english.language == "en"
        english.done.wait(120)
        assert english.error.startswith("The model has 1 input(s) (img)"), english.error
    finally:
        registry.shutdown()


def test_a_chinese_job_stopped_by_its_heartbeat_says_why_in_chinese():
    from studio.training.job import TrainingJob

    spec = load_preset("mnist_mlp")
    with use_language("zh"):
        job = TrainingJob(TrainingRequest(spec, default_settings(spec), dataset_key="mnist", heartbeat_timeout_s=0.01))
    assert job.status == QUEUED and job.message == translate_in("zh", "waiting for its turn")
    time.sleep(0.05)
    reason = job.abandoned()  # asked from an English context (the worker): still the job's language
    assert reason and reason.startswith("已停止") and CHINESE.search(reason)
    job.stop(reason)
    assert CHINESE.search(job.message)


# --- the Train page explains the default, in the session's language ---------------------------


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_train_page_explains_the_encoders_default(language):
    from tests.i18n_text import chinese_left, english_left
    from tests.test_i18n_pages import open_page

    at = open_page("pages/training.py", "encoder", language)
    shown = [info.value for info in at.info]
    if language == "en":
        assert any(text.startswith("The encoder alone is a feature extractor") for text in shown), shown
        assert not chinese_left(at)
    else:
        assert any(text.startswith("单独的编码器是一个特征提取器") for text in shown), shown
        assert not english_left(at), english_left(at)
