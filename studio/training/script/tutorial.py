"""The model's code in the tutorial's style, with its training: the model as :func:`studio.io.codegen.model_code`
writes it in the "tutorial" style, then, under ``if __name__ == "__main__":``, the data as the studio loads or
makes it (MNIST from keras.datasets, the synthetic tickets of section 3 ...) and ``compile`` / ``fit`` /
``evaluate`` with the tutorial's settings (or the ones given).

Importing the file (or ``runpy.run_path``) builds ``model`` only; running it trains. Every value from the spec
or the settings is a literal in the syntax tree, as in the rest of the generated code.
"""

from __future__ import annotations

import ast
import math

from studio.graph.spec import GraphSpec, split_ref
from studio.io.codegen import model_code, spec_comments
from studio.io.codegen import syntax as py
from studio.io.codegen.layout import Blank, Comment, MainGuard, render
from studio.model.names import keras_model_name, needs_keras_name
from studio.training.datasets import (
    BODY_WORDS,
    IMAGE_SETS,
    NUM_DEPARTMENTS,
    NUM_TAGS,
    NUM_WORDS,
    TICKET_SAMPLES,
    TITLE_WORDS,
)
from studio.training.default_data import default_dataset_key
from studio.training.defaults import not_trainable_message
from studio.training.script.settings_code import compile_call
from studio.training.settings import CompileSettings, default_settings

TUTORIAL_HEADER = (
    "Functional-API code for a model, in the style of the Keras functional-API tutorial.",
    "Written by Keras Functional Studio: run it to train `model`, import it to build it.",
)
# Variables of the lines under the main guard: the model's own variables never take these names.
DATA_NAMES = frozenset(
    {
        "x_train",
        "y_train",
        "x_test",
        "y_test",
        "history",
        "scores",
        "rng",
        "features",
        "table",
        "first",
        "second",
        "title_data",
        "body_data",
        "tag_data",
        "priority_data",
        "department_data",
        "images_train",
        "images_test",
        "codes_train",
        "codes_test",
        "sample",
    }
)
TEST_SAMPLES = 256
_IMAGE_SHAPES = {"mnist": (28, 28), "fashion_mnist": (28, 28), "cifar10": (32, 32, 3)}
_FIT_KEYWORDS = ("batch_size", "epochs", "validation_split", "shuffle", "verbose")


def _method(variable: str, method: str, *args: ast.expr, **keywords: object) -> ast.Call:
    """``variable.method(*args, key=value ...)`` (keyword values are literals)."""
    arguments = [py.keyword_argument(key, value if isinstance(value, ast.AST) else py.literal(value)) for key, value in keywords.items()]
    return py.call(py.attribute(py.name(variable), method), list(args), arguments)


def _rows(variable: str, start: int | None, stop: int | None) -> ast.Subscript:
    """``variable[start:stop]``."""
    bounds = ast.Slice(lower=None if start is None else py.literal(start), upper=None if stop is None else py.literal(stop))
    return ast.Subscript(value=py.name(variable), slice=bounds, ctx=ast.Load())


def _by_name(names: list[str], values: list[ast.expr], keyed: bool) -> ast.expr:
    """Arrays for a model's inputs or outputs: a dict keyed by their names when they match, else a list."""
    if len(values) == 1:
        return values[0]
    if keyed:
        return ast.Dict(keys=[py.literal(name) for name in names], values=values)
    return ast.List(elts=values, ctx=ast.Load())


def _scaled(variable: str, shape: tuple | None) -> ast.expr:
    """``x.reshape(-1, *shape).astype("float32") / 255`` (no reshape when the images already have that shape)."""
    array: ast.expr = py.name(variable)
    if shape is not None:
        array = _method(variable, "reshape", *(py.literal(size) for size in (-1, *shape)))
    typed = py.call(py.attribute(array, "astype"), [py.literal("float32")])
    return ast.BinOp(left=typed, op=ast.Div(), right=py.literal(255))


def _input_shape(spec: GraphSpec) -> tuple | None:
    """The per-sample shape of the model's first input when it is an Input with a fully known shape."""
    layer = spec.layer_of(split_ref(spec.inputs[0])[0]) if spec.inputs else None
    shape = layer.config.get("shape") if layer is not None and layer.type == "Input" else None
    if isinstance(shape, list) and shape and all(isinstance(size, int) and size > 0 for size in shape):
        return tuple(shape)
    return None


def _images(spec: GraphSpec, key: str, settings: CompileSettings) -> tuple[list, tuple]:
    """MNIST-like images from keras.datasets: statements and the (x_train, y_train, x_test, y_test) to fit on."""
    thumbnails = key == "mnist_thumbnails"
    dataset = "mnist" if thumbnails else key.removesuffix("_autoencoder")
    title = IMAGE_SETS[dataset][0]
    items: list = [Comment(f"{title} from keras.datasets, downloaded once into ~/.keras/datasets: the first run needs the internet.")]
    if dataset == "mnist":
        items.append(Comment("Offline, train it in the studio (it ships 5,000 real digits) or with the studio's training script."))
    load = py.call(py.attribute(py.path(f"keras.datasets.{dataset}"), "load_data"))
    labels = ["_", "_"] if thumbnails or key.endswith("_autoencoder") else ["y_train", "y_test"]
    pairs = [ast.Tuple(elts=[py.target(x), py.target(y)], ctx=ast.Store()) for x, y in zip(("x_train", "x_test"), labels, strict=True)]
    items.append(py.assign(ast.Tuple(elts=pairs, ctx=ast.Store()), load))
    if thumbnails:
        for part in ("train", "test"):
            items.append(py.assign(f"images_{part}", _scaled(f"x_{part}", (28, 28, 1))))
        items.append(Comment("Each digit averaged down to 4x4 = 16 numbers: the code the decoder learns to turn back into it."))
        for part in ("train", "test"):
            blocks = _method(f"images_{part}", "reshape", *(py.literal(size) for size in (-1, 4, 7, 4, 7)))
            means = py.call(py.attribute(blocks, "mean"), [], [py.keyword_argument("axis", py.literal((2, 4)))])
            items.append(py.assign(f"codes_{part}", py.call(py.attribute(means, "reshape"), [py.literal(-1), py.literal(16)])))
        return items, tuple(py.name(name) for name in ("codes_train", "images_train", "codes_test", "images_test"))
    shape = _input_shape(spec)
    native = _IMAGE_SHAPES[dataset]
    fits = shape is not None and shape != native and math.prod(shape) == math.prod(native)
    for part in ("train", "test"):
        items.append(py.assign(f"x_{part}", _scaled(f"x_{part}", shape if fits else None)))
    if key.endswith("_autoencoder"):
        return items, tuple(py.name(name) for name in ("x_train", "x_train", "x_test", "x_test"))
    if settings.outputs[0].loss == "categorical_crossentropy":
        for part in ("train", "test"):
            one_hot = py.call("keras.utils.to_categorical", [py.name(f"y_{part}"), py.literal(len(IMAGE_SETS[dataset][1]))])
            items.append(py.assign(f"y_{part}", one_hot))
    return items, tuple(py.name(name) for name in ("x_train", "y_train", "x_test", "y_test"))


def _tickets(spec: GraphSpec, seed: int) -> tuple[list, tuple]:
    """The tutorial's synthetic tickets, drawn as :func:`studio.training.datasets.tutorial_tickets` draws them."""
    total = TICKET_SAMPLES + TEST_SAMPLES
    items: list = [
        Comment(
            f"The tutorial's synthetic tickets: random word ids, tags and labels ({TICKET_SAMPLES:,} to train on, "
            f"{TEST_SAMPLES} more to test)."
        ),
        py.assign("rng", py.call("np.random.default_rng", [py.literal(seed)])),
    ]
    draws = {
        "title_data": _method("rng", "integers", py.literal(NUM_WORDS), size=(total, TITLE_WORDS)),
        "body_data": _method("rng", "integers", py.literal(NUM_WORDS), size=(total, BODY_WORDS)),
        "tag_data": _method("rng", "integers", py.literal(2), size=(total, NUM_TAGS)),
        "priority_data": _method("rng", "random", size=(total, 1)),
        "department_data": _method("rng", "integers", py.literal(2), size=(total, NUM_DEPARTMENTS)),
    }
    for variable, draw in draws.items():
        typed = draw if variable in ("title_data", "body_data") else py.call(py.attribute(draw, "astype"), [py.literal("float32")])
        items.append(py.assign(variable, typed))
    inputs, outputs = ["body", "title", "tag"], ["priority", "department"]
    keyed_in = sorted(spec.inputs) == sorted(inputs)
    keyed_out = _simple_outputs(spec) and sorted(spec.outputs) == sorted(outputs)
    parts = []
    for start, stop in ((None, TICKET_SAMPLES), (TICKET_SAMPLES, None)):
        parts.append(_by_name(inputs, [_rows(f"{name}_data", start, stop) for name in inputs], keyed_in))
        parts.append(_by_name(outputs, [_rows(f"{name}_data", start, stop) for name in outputs], keyed_out))
    return items, _named_split(items, parts)


def _named_split(items: list, parts: list[ast.expr]) -> tuple:
    """Assign x_train, y_train, x_test, y_test and return their names."""
    names = ("x_train", "y_train", "x_test", "y_test")
    items += [py.assign(name, value) for name, value in zip(names, parts, strict=True)]
    return tuple(py.name(name) for name in names)


def _shared_ints(seed: int) -> tuple[list, tuple]:
    """Word ids and a hidden embedding table, drawn as :func:`studio.training.datasets.shared_ints` draws them."""
    total = TICKET_SAMPLES + TEST_SAMPLES
    items: list = [
        Comment("Random word ids; each id's target is its row of a hidden random table, learnt by the shared Embedding."),
        py.assign("rng", py.call("np.random.default_rng", [py.literal(seed)])),
        py.assign(
            "table",
            py.call(
                py.attribute(_method("rng", "normal", py.literal(0.0), py.literal(0.5), size=(100, 64)), "astype"), [py.literal("float32")]
            ),
        ),
    ]
    for variable in ("first", "second"):
        draw = _method("rng", "integers", py.literal(100), size=(total, 10))
        items.append(py.assign(variable, py.call(py.attribute(draw, "astype"), [py.literal("int32")])))
    parts = []
    for start, stop in ((None, TICKET_SAMPLES), (TICKET_SAMPLES, None)):
        ids = [_rows(name, start, stop) for name in ("first", "second")]
        parts.append(ast.List(elts=ids, ctx=ast.Load()))
        parts.append(ast.List(elts=[ast.Subscript(value=py.name("table"), slice=item, ctx=ast.Load()) for item in ids], ctx=ast.Load()))
    return items, _named_split(items, parts)


def _simple_outputs(spec: GraphSpec) -> bool:
    """Whether every output is the one call of its own layer, so Keras knows the outputs by the spec's names."""
    layers = [spec.layer_of(split_ref(ref)[0]) for ref in spec.outputs]
    return all(
        layer is not None and layer.id == ref and len(spec.calls_of(layer.id)) == 1 for layer, ref in zip(layers, spec.outputs, strict=True)
    ) and len(set(spec.outputs)) == len(spec.outputs)


def _sample_inputs(spec: GraphSpec) -> list[ast.expr]:
    """Random arrays of one sample for each input (None sizes as 8; an application's default input 224x224x3)."""
    arrays = []
    for ref in spec.inputs:
        layer = spec.layer_of(split_ref(ref)[0])
        if layer is not None and layer.type == "Input":
            shape = [8 if size is None else size for size in layer.config.get("shape") or []]
        else:
            shape = list((layer.config.get("input_shape") if layer is not None else None) or (224, 224, 3))
        arrays.append(py.call(py.attribute(_method("rng", "random", py.literal((1, *shape))), "astype"), [py.literal("float32")]))
    return arrays


def _main_lines(spec: GraphSpec, settings: CompileSettings, dataset_key: str | None) -> tuple[list, bool]:
    """The lines under the main guard, and whether they need numpy."""
    items: list = []
    if needs_keras_name(spec.name):
        safe = keras_model_name(spec.name)
        items += [
            Comment(f'Keras 3 on TensorFlow trains, predicts and evaluates only models named like "{safe}" (no spaces).'),
            py.assign(py.attribute(py.name("model"), "name", store=True), py.literal(safe)),
        ]
    items.append(py.statement(_method("model", "summary")))
    if not_trainable_message(spec) is not None:
        items += [
            Comment("A feature extractor is used as it is, not trained: run a random sample through it."),
            py.assign("rng", py.call("np.random.default_rng", [py.literal(settings.seed)])),
            py.assign("sample", _by_name([], _sample_inputs(spec), keyed=False)),
            py.assign("features", _method("model", "predict", py.name("sample"), verbose=0)),
            py.statement(
                py.call(
                    "print",
                    [
                        py.call("len", [py.name("features")]),
                        py.literal("outputs, the last of shape"),
                        py.attribute(ast.Subscript(value=py.name("features"), slice=py.literal(-1), ctx=ast.Load()), "shape"),
                    ],
                )
            ),
        ]
        return items, True
    key = dataset_key or ""
    if key.removesuffix("_autoencoder") in IMAGE_SETS or key == "mnist_thumbnails":
        data, arrays = _images(spec, key, settings)
    elif key == "tickets":
        data, arrays = _tickets(spec, settings.seed)
    elif key == "shared_ints":
        data, arrays = _shared_ints(settings.seed)
    else:
        data, arrays = [], ()
    keys = list(spec.outputs) if len(spec.outputs) > 1 and _simple_outputs(spec) else None
    items += [*data, py.statement(compile_call(settings, keys=keys, all_metrics=False))]
    fit = {"batch_size": settings.batch_size, "epochs": settings.epochs}
    if settings.validation_split:
        fit["validation_split"] = float(settings.validation_split)
    if not settings.shuffle:
        fit["shuffle"] = False
    if not arrays:
        shown = ", ".join(f"{name}={value!r}" for name, value in fit.items())
        items += [
            Comment("No data comes with this model in the studio: load arrays shaped like its inputs and outputs"),
            Comment("(the studio's training script reads your own .npz or .csv file), then train it:"),
            Comment(f"history = model.fit(x_train, y_train, {shown})"),
        ]
        return items, False
    x_train, y_train, x_test, y_test = arrays
    keywords = [py.keyword_argument(name, py.literal(value), _FIT_KEYWORDS) for name, value in fit.items()]
    items += [
        py.assign("history", py.call(py.attribute(py.name("model"), "fit"), [x_train, y_train], keywords)),
        py.assign("scores", _method("model", "evaluate", x_test, y_test, verbose=0)),
        py.statement(py.call("print", [py.literal("Test loss and metrics:"), py.name("scores")])),
    ]
    return items, key in ("tickets", "shared_ints")


def tutorial_code(spec: GraphSpec, settings: CompileSettings | None = None, dataset_key: str | None = None) -> str:
    """The model in the tutorial's style, with data, compile, fit and evaluate under ``if __name__ == "__main__":``."""
    if dataset_key is None:
        dataset_key = default_dataset_key(spec)
    settings = settings or default_settings(spec, dataset_key)
    settings.validate(num_outputs=len(spec.outputs))
    code = model_code(spec, "tutorial", reserved=DATA_NAMES)
    guard, uses_numpy = _main_lines(spec, settings, dataset_key)
    imports = [ast.Import(names=[ast.alias(name="numpy", asname="np")])] if uses_numpy else []
    header = [Comment(line) for line in TUTORIAL_HEADER]
    items = [*header, *spec_comments(spec, name_note=False), *imports, *code.imports, Blank(), *code.body, Blank(2), MainGuard(guard)]
    return render(items)
