"""Evaluation after training (or after Stop): test loss and metrics per output; for classifiers a
confusion matrix and sample predictions (wrong ones first); for image outputs target vs prediction.

A sample's confidence is a probability only when the output gives probabilities: a head trained on logits
(``from_logits``) gets softmax (or sigmoid) applied for display, and any other head without probabilities
(no softmax) shows its raw scores; :attr:`OutputEvaluation.confidence` says which, so a page never shows
"1 (626%)"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.training.data import TrainingData
from studio.training.settings import CompileSettings

MAX_EVAL_SAMPLES = 10_000
GRID_SAMPLES = 16
IMAGE_PAIRS = 8
EVAL_BATCH = 1024
# What a sample's confidence is: a probability the model gives, one computed for display from its logits, or a raw score.
PROBABILITY, SOFTMAX, SIGMOID, SCORE = "probability", "softmax", "sigmoid", "score"


@dataclass
class OutputEvaluation:
    """Results for one output (head) of the model."""

    name: str
    kind: str  # "classifier", "binary", "image", "values"
    loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    class_names: list[str] | None = None
    confusion: list[list[int]] | None = None
    accuracy: float | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    confidence: str = PROBABILITY  # PROBABILITY, SOFTMAX / SIGMOID (applied for display to logits) or SCORE (raw)


@dataclass
class Evaluation:
    """The whole test evaluation: overall loss, all metrics as Keras names them, and per-output results."""

    num_samples: int
    loss: float | None
    metrics: dict[str, float]
    outputs: list[OutputEvaluation]

    def to_dict(self) -> dict[str, Any]:
        """Numbers only (no images), for run.json."""
        return {
            "test_samples": self.num_samples,
            "loss": self.loss,
            "metrics": dict(self.metrics),
            "outputs": {
                output.name: {
                    "loss": output.loss,
                    **output.metrics,
                    **({"accuracy": output.accuracy} if output.accuracy is not None else {}),
                }
                for output in self.outputs
            },
        }


def _image_like(array: np.ndarray) -> np.ndarray | None:
    """Samples as HxW or HxWx3 images in [0, 1], when the array looks like images (784 -> 28x28)."""
    shape = array.shape[1:]
    if shape == (784,):
        return array.reshape(-1, 28, 28)
    if len(shape) == 3 and shape[-1] == 1 and min(shape[:2]) >= 8:
        return array[..., 0]
    if len(shape) == 3 and shape[-1] == 3 and min(shape[:2]) >= 8:
        return array
    if len(shape) == 2 and min(shape) >= 8:
        return array
    return None


def _is_image_batch(array: np.ndarray) -> bool:
    """Images with a channel axis (HxWx1 or HxWx3) or flat 784-pixel digits."""
    shape = array.shape[1:]
    return shape == (784,) or (len(shape) == 3 and shape[-1] in (1, 3) and min(shape[:2]) >= 8)


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return (np.clip(np.nan_to_num(images.astype(np.float32)), 0.0, 1.0) * 255).astype(np.uint8)


def _per_output(results: dict[str, float], keras_names: list[str], index: int, single: bool) -> tuple[float | None, dict[str, float]]:
    if single:
        return results.get("loss"), {k: v for k, v in results.items() if k != "loss"}
    prefix = keras_names[index] + "_"
    mine = {k[len(prefix) :]: v for k, v in results.items() if k.startswith(prefix)}
    return mine.pop("loss", None), mine


def softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (stable for large scores)."""
    shifted = scores.astype(np.float64) - scores.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def sigmoid(scores: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-np.clip(scores.astype(np.float64), -60, 60)))


def _looks_like_probabilities(predicted: np.ndarray, binary: bool) -> bool:
    finite = np.nan_to_num(predicted.astype(np.float64))
    if finite.size == 0:
        return True
    if finite.min() < -1e-6 or finite.max() > 1 + 1e-6:
        return False
    return binary or bool(np.allclose(finite.sum(axis=-1), 1.0, atol=1e-3))


def as_probabilities(predicted: np.ndarray, from_logits: bool, binary: bool = False) -> tuple[np.ndarray, str]:
    """(values to show as confidences, what they are): logits squashed for display, probabilities as they are, else raw scores."""
    if from_logits:
        return (sigmoid(predicted), SIGMOID) if binary else (softmax(predicted), SOFTMAX)
    if _looks_like_probabilities(predicted, binary):
        return predicted, PROBABILITY
    return predicted, SCORE


def _classifier(output: OutputEvaluation, truth: np.ndarray, predicted: np.ndarray, images: np.ndarray | None, classes: int) -> None:
    labels = predicted.argmax(axis=-1)
    true_labels = (
        truth.reshape(len(truth), -1).argmax(axis=1) if truth.ndim > 1 and truth.shape[-1] == classes else truth.reshape(-1).astype(int)
    )
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.clip(true_labels, 0, classes - 1), labels), 1)
    output.confusion = matrix.tolist()
    output.accuracy = float((labels == true_labels).mean()) if len(labels) else None
    confidence = predicted.max(axis=-1)
    wrong = np.flatnonzero(labels != true_labels)
    right = np.flatnonzero(labels == true_labels)
    chosen = np.concatenate([wrong[np.argsort(-confidence[wrong])], right])[:GRID_SAMPLES]
    for index in chosen:
        sample = {
            "index": int(index),
            "true": int(true_labels[index]),
            "predicted": int(labels[index]),
            "confidence": float(confidence[index]),
        }
        if images is not None:
            sample["image"] = _to_uint8(images[index])
        output.samples.append(sample)


def evaluate_training(model: Any, data: TrainingData, settings: CompileSettings, class_names: list[str] | None = None) -> Evaluation:
    """Evaluate on the test arrays and build the per-output views."""
    count = min(len(data.x_test[0]), MAX_EVAL_SAMPLES) if data.x_test else 0
    if count == 0:
        return Evaluation(0, None, {}, [])
    x = [a[:count] for a in data.x_test]
    y = [a[:count] for a in data.y_test]
    single_in, single_out = len(x) == 1, len(y) == 1
    x_arg = x[0] if single_in else x
    results = model.evaluate(x_arg, y[0] if single_out else y, batch_size=EVAL_BATCH, verbose=0, return_dict=True)
    results = {k: float(v) for k, v in results.items() if np.ndim(v) == 0}
    predictions = model.predict(x_arg, batch_size=EVAL_BATCH, verbose=0)
    predictions = [predictions] if single_out else list(predictions)
    keras_names = list(model.output_names)
    input_images = _image_like(x[0]) if single_in else None
    outputs = []
    for index, name in enumerate(data.output_names):
        loss_name = settings.outputs[index].loss if index < len(settings.outputs) else ""
        from_logits = bool(settings.outputs[index].from_logits) if index < len(settings.outputs) else False
        truth, predicted = y[index], np.asarray(predictions[index])
        loss, metrics = _per_output(results, keras_names, index, single_out)
        classes = predicted.shape[-1] if predicted.ndim == 2 else 0
        if "categorical" in loss_name and classes > 1:
            output = OutputEvaluation(
                name, "classifier", loss, metrics, class_names if class_names and len(class_names) <= classes else None
            )
            shown, output.confidence = as_probabilities(predicted, from_logits)
            _classifier(output, truth, shown, input_images, classes)
        elif loss_name == "binary_crossentropy" and classes == 1 and np.isin(truth, (0, 1)).all():
            output = OutputEvaluation(name, "binary", loss, metrics, ["0", "1"])
            shown, output.confidence = as_probabilities(predicted, from_logits, binary=True)
            _classifier(output, truth.reshape(-1), np.concatenate([1 - shown, shown], axis=1), input_images, 2)
        elif _is_image_batch(predicted) and _is_image_batch(truth):
            output = OutputEvaluation(name, "image", loss, metrics)
            targets, outputs_shown = _image_like(truth), _image_like(predicted)
            for sample in range(min(IMAGE_PAIRS, count)):
                error = float(np.mean((targets[sample] - outputs_shown[sample]) ** 2))
                output.images.append(
                    {"index": sample, "target": _to_uint8(targets[sample]), "prediction": _to_uint8(outputs_shown[sample]), "mse": error}
                )
        else:
            output = OutputEvaluation(name, "values", loss, metrics)
        outputs.append(output)
    return Evaluation(count, results.get("loss"), results, outputs)
