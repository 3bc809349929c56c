"""The Learn page's five lessons (one per section of the functional-API tutorial) and the learner's progress.

Pure data and logic, no Streamlit: what each lesson teaches, the preset it opens, the steps to do, the numbers the
tutorial reports (or the preset's expected count where the tutorial prints none), and which lessons are done.
Texts are marked with ``N_`` and translated where they are shown. Progress travels in the project file as
``{"done": ["simple_network", ...]}`` (see :func:`progress_to_data` / :func:`progress_from_data`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from studio.i18n import N_

TUTORIAL_TEST_ACCURACY = 0.9624  # section 1: the simple network after 5 epochs on full MNIST
FULL_MNIST_ACCURACY = 0.96  # what full MNIST reaches, roughly, with the tutorial's settings
TRAINED = "trained"  # a lesson is done by itself when a run of its model finished in this session
OPENED = "opened"  # ... when its model was opened in the Builder from the lesson (models that are not trained)


@dataclass(frozen=True)
class Reference:
    """A number to compare with: a model's parameter count, as the tutorial prints it or as the preset expects it."""

    preset: str
    params: int
    from_tutorial: bool = True  # False: the tutorial prints no summary; the count is the preset's expected one


@dataclass(frozen=True)
class Lesson:
    """One lesson: a concept, the models that show it, the steps to do and the numbers to compare."""

    key: str
    number: int
    title: str  # N_ marked
    summary: str  # one line for the list of lessons (N_ marked)
    concept: tuple[str, ...]  # paragraphs (N_ marked)
    presets: tuple[str, ...]  # the models shown; the last one is the one to open and train
    steps: tuple[str, ...]  # N_ marked
    references: tuple[Reference, ...]
    done_when: str = TRAINED
    test_accuracy: float | None = None  # the tutorial's test accuracy, where it reports one
    save_and_load: bool = False  # the lesson includes saving the trained model and loading it again
    extra: tuple[str, ...] = field(default_factory=tuple)  # notes under the steps (N_ marked)

    @property
    def preset(self) -> str:
        """The model this lesson opens in the Builder and trains."""
        return self.presets[-1]

    @property
    def trainable(self) -> bool:
        """Whether its model is trained in the lesson (the VGG16 feature extractor is only opened and inspected)."""
        return self.done_when == TRAINED


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        key="simple_network",
        number=1,
        title=N_("A simple network"),
        summary=N_("Build a small digit classifier from an input and three Dense layers; train, evaluate, save and load it."),
        concept=(
            N_(
                "With the functional API a model is written as a chain of calls: make an `Input`, call a layer on it, "
                "call the next layer on what that returned, and so on. `keras.Model(inputs, outputs)` then collects "
                "every layer between the two ends into one model."
            ),
            N_(
                "This one reads a flattened 28×28 digit (784 numbers), passes it through Dense layers of 32 and 64 "
                "units and ends in 10 softmax units, one per digit. Once built it can be summarised, drawn, compiled, "
                "trained, evaluated, saved to a file and loaded back."
            ),
        ),
        presets=("mnist_mlp",),
        steps=(
            N_("Open the model in the Builder and follow it from the input node to the output node."),
            N_("Change one thing, for example the units of the first Dense layer, and watch the parameter count move."),
            N_("Train it on MNIST (5 epochs with RMSprop, like the tutorial) and read the test accuracy."),
            N_(
                "Compare your numbers with the tutorial's below, then download the trained model on the Export page "
                "and check that it loads again."
            ),
        ),
        references=(Reference("mnist_mlp", 27_882),),
        test_accuracy=TUTORIAL_TEST_ACCURACY,
        save_and_load=True,
    ),
    Lesson(
        key="models_as_layers",
        number=2,
        title=N_("Models as layers"),
        summary=N_("An encoder and a decoder are models of their own; an autoencoder calls both like two layers."),
        concept=(
            N_(
                "A finished model can be used wherever a layer can: call it on a tensor and it runs all of its layers "
                "as one step. This is how bigger models are assembled from smaller ones."
            ),
            N_(
                "The encoder shrinks a 28×28 grey image to 16 numbers with convolutions and pooling; the decoder grows "
                "16 numbers back into a 28×28 image with transposed convolutions. The autoencoder is a third model that "
                "calls the encoder, then the decoder, so its parameters are exactly the sum of theirs."
            ),
        ),
        presets=("encoder", "decoder", "autoencoder"),
        steps=(
            N_("Open the autoencoder in the Builder: the encoder and the decoder each appear as a single nested model."),
            N_("Change one thing inside one of them, for example the filters of a Conv2D layer, and see the autoencoder's count follow."),
            N_("Train the autoencoder: the target is the input image itself, so the test shows digits next to their reconstructions."),
            N_("Compare the three parameter counts below with the tutorial's."),
        ),
        references=(Reference("encoder", 18_672), Reference("decoder", 9_569), Reference("autoencoder", 28_241)),
    ),
    Lesson(
        key="multi_io",
        number=3,
        title=N_("Several inputs and outputs"),
        summary=N_("One model reads a ticket's title, body and tags and predicts both its priority and its department."),
        concept=(
            N_(
                "`keras.Model` accepts lists: several inputs go in, several outputs come out, and each output gets its "
                "own loss. Loss weights decide how much each output counts in the total the optimizer lowers."
            ),
            N_(
                "Here the title and the body (word ids) each go through their own Embedding and LSTM; the two results "
                "and the 12 tag flags are concatenated, and two heads read the joined features: a priority between 0 "
                "and 1 (sigmoid) and one of 4 departments (softmax)."
            ),
        ),
        presets=("multi_io",),
        steps=(
            N_("Open the model in the Builder and find its three inputs and its two outputs."),
            N_("Change one thing, for example the units of one LSTM, and watch the parameter count."),
            N_("Train it: the data is random, as in the tutorial, so the losses show how the outputs train together, not real skill."),
            N_("Compare your parameter count with the tutorial's below."),
        ),
        references=(Reference("multi_io", 368_097),),
    ),
    Lesson(
        key="shared_layers",
        number=4,
        title=N_("Shared layers"),
        summary=N_("One Embedding layer called on two inputs: two calls, one set of weights."),
        concept=(
            N_(
                "A layer object owns its weights. Calling the same layer on two different inputs does not copy it: "
                "both calls read and train the very same weights."
            ),
            N_(
                "Here one Embedding of 100 words by 64 numbers is called on two integer inputs. It holds 6,400 "
                "parameters, and that stays true however many inputs call it."
            ),
        ),
        presets=("shared_embedding",),
        steps=(
            N_("Open the model in the Builder: one layer, two nodes that call it."),
            N_("Add a third input and call the shared layer on it too: the parameter count does not change."),
            N_("Train it on the small sample of integer sequences and see both calls learn together."),
            N_("Compare your parameter count with the expected 6,400."),
        ),
        references=(Reference("shared_embedding", 6_400, from_tutorial=False),),
    ),
    Lesson(
        key="reuse",
        number=5,
        title=N_("Reusing a trained model's layers"),
        summary=N_("Take VGG16 and build a new model whose outputs are the outputs of its inner layers."),
        concept=(
            N_(
                "Keras ships well-known networks (VGG16, ResNet50, …) with weights already trained on ImageNet. "
                "Every inner layer of such a model has an output tensor, so a new `keras.Model` can go from VGG16's "
                "input to any list of those tensors."
            ),
            N_(
                "The result returns the feature maps of every layer for one image in a single call: a feature "
                "extractor. It adds no weights of its own; all its parameters are VGG16's."
            ),
        ),
        presets=("vgg16_features",),
        steps=(
            N_("Open the model in the Builder and look at its list of outputs, one per inner layer of VGG16."),
            N_("Change one thing: keep only a few outputs, for example the pooling layers, and see that the parameter count stays."),
            N_("This model is used as it is, not trained: look at the feature maps of a sample image on the Models page."),
            N_("Compare your parameter count with the expected 138,357,544."),
        ),
        references=(Reference("vgg16_features", 138_357_544, from_tutorial=False),),
        done_when=OPENED,
        extra=(
            N_(
                "Without ImageNet weights on this machine the weights are random: the shapes and counts are right, "
                "the features are not meaningful."
            ),
        ),
    ),
)


def lesson(key: str) -> Lesson:
    """The lesson with this key; KeyError for an unknown one."""
    for found in LESSONS:
        if found.key == key:
            return found
    raise KeyError(key)


def lesson_keys() -> list[str]:
    """The keys of the lessons, in order."""
    return [found.key for found in LESSONS]


# --- progress -------------------------------------------------------------------------------------------------


def normalize_progress(done: Iterable[str]) -> list[str]:
    """The done lessons in lesson order, without duplicates or unknown keys."""
    wanted = set(done)
    return [key for key in lesson_keys() if key in wanted]


def mark(done: Iterable[str], key: str, is_done: bool = True) -> list[str]:
    """The done list with one lesson marked done (or not done)."""
    if key not in lesson_keys():
        raise KeyError(key)
    wanted = set(done)
    if is_done:
        wanted.add(key)
    else:
        wanted.discard(key)
    return normalize_progress(wanted)


def next_lesson(done: Iterable[str]) -> Lesson:
    """The first lesson not done yet (the first one when all are done)."""
    finished = set(done)
    return next((found for found in LESSONS if found.key not in finished), LESSONS[0])


def progress_to_data(done: Iterable[str]) -> dict[str, Any]:
    """Progress as plain data for the project file."""
    return {"done": normalize_progress(done)}


def progress_from_data(data: Any) -> list[str]:
    """Progress read from a project file; anything malformed or unknown is left out (a file never fails for it)."""
    if not isinstance(data, dict):
        return []
    done = data.get("done")
    if not isinstance(done, list):
        return []
    return normalize_progress(key for key in done if isinstance(key, str))


# --- what the user got ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    """What the app knows about one finished run of this session (plain data, filled in by the page)."""

    model_name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    finished: float  # time.time() when it ended
    accuracy: float | None = None  # test accuracy of its first output, when it is a classifier
    loss: float | None = None  # overall test loss
    offline_sample: bool = False  # trained on the offline MNIST sample instead of full MNIST


def same_model(name: str, inputs: Iterable[str], outputs: Iterable[str], preset_spec: Any) -> bool:
    """Whether a model is the preset's, possibly changed: same name, same input and output nodes."""
    return name == preset_spec.name and list(inputs) == list(preset_spec.inputs) and list(outputs) == list(preset_spec.outputs)


def latest_run(runs: Iterable[RunResult], preset_spec: Any) -> RunResult | None:
    """The most recent finished run of the preset's model (changed or not), or None."""
    matching = [run for run in runs if same_model(run.model_name, run.inputs, run.outputs, preset_spec)]
    return max(matching, key=lambda run: run.finished, default=None)


def detected_done(runs: Iterable[RunResult], preset_specs: dict[str, Any]) -> list[str]:
    """Lessons whose step shows in this session's runs: a finished run of the lesson's model (for lessons that train)."""
    runs = list(runs)
    return normalize_progress(
        found.key for found in LESSONS if found.trainable and found.preset in preset_specs and latest_run(runs, preset_specs[found.preset])
    )
