"""Benchmark: parsing a 200-line functional-API snippet (studio.io.pycode, never run) and analysing the model it
defines (shapes and parameter counts without weights, as the Builder's From-code panel does). The issue's budget
is 0.2 s of server time for both. Run: .venv/bin/python bench/bench_parse.py [--repeats N]"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import studio  # noqa: E402,F401,I001 - first, to quiet TensorFlow start-up logs
from studio.io.pycode import parse_code  # noqa: E402
from studio.model.analysis import analyze_for_display, param_counts  # noqa: E402

LINES = 200


def snippet(lines: int = LINES) -> str:
    """A realistic snippet of `lines` lines: imports, constants, a helper, two inputs, ~60 layers, data, compile, fit."""
    head = [
        "# A two-input classifier: an image branch and a text branch, merged.",
        "import numpy as np",
        "import tensorflow as tf",
        "from tensorflow import keras",
        "from tensorflow.keras import layers",
        "",
        "num_words = 2000",
        "num_classes = 10",
        "image_shape = (32, 32, 3)",
        "",
        "def conv_block(x, filters, kernel=3):",
        "    x = layers.Conv2D(filters, kernel, padding=\"same\")(x)",
        "    x = layers.BatchNormalization()(x)",
        "    return layers.Activation(\"relu\")(x)",
        "",
        "image = keras.Input(shape=image_shape, name=\"image\")",
        "words = keras.Input(shape=(None,), name=\"words\")",
        "x = image",
    ]
    body = []
    for block in range(12):
        filters = 16 * (1 + block // 4)
        body += [f"# block {block + 1}", f"x = conv_block(x, {filters})", f"x = conv_block(x, {filters})"]
        if block % 4 == 3:
            body += ["x = layers.MaxPooling2D(2)(x)", "x = layers.Dropout(0.1)(x)"]
        body.append("")
    body += [
        "image_features = layers.GlobalAveragePooling2D()(x)",
        "w = layers.Embedding(num_words, 32)(words)",
        "w = layers.Bidirectional(layers.LSTM(16, return_sequences=True))(w)",
        "w = layers.LSTM(16)(w)",
        "joined = layers.concatenate([image_features, w])",
    ]
    for index in range(8):
        body += [f"joined = layers.Dense({128 // (1 + index % 4)}, activation=\"relu\")(joined)", "joined = layers.Dropout(0.2)(joined)"]
    tail = [
        "classes = layers.Dense(num_classes, activation=\"softmax\", name=\"classes\")(joined)",
        "model = keras.Model(inputs=[image, words], outputs=classes, name=\"two_branch\")",
        "model.summary()",
        "keras.utils.plot_model(model, \"two_branch.png\", show_shapes=True)",
        "",
        "images = np.random.random((256, 32, 32, 3)).astype(\"float32\")",
        "texts = np.random.randint(num_words, size=(256, 20))",
        "labels = np.random.randint(num_classes, size=(256,))",
        "model.compile(",
        "    optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),",
        "    loss=\"sparse_categorical_crossentropy\",",
        "    metrics=[\"accuracy\"],",
        ")",
        "history = model.fit([images, texts], labels, batch_size=32, epochs=2, validation_split=0.2)",
        "print(model.evaluate([images, texts], labels, verbose=0))",
    ]
    text = head + body
    filler = lines - len(text) - len(tail)
    text += [f"# note {number}: the parser skips comments" for number in range(max(filler, 0))] + tail
    return "\n".join(text[:lines]) + "\n"


def median_time(function, repeats: int) -> float:
    """Median wall time of a function (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print the parse, analysis and total times of the 200-line snippet."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    source = snippet()
    result = parse_code(source)
    if result.errors:
        raise SystemExit(f"the benchmark snippet does not parse: {[problem.text() for problem in result.errors]}")
    spec = result.default_model.spec
    analysis = analyze_for_display(spec)
    print(f"snippet: {len(source.splitlines())} lines, {len(spec.calls)} nodes, {param_counts(analysis).total:,} parameters, "
          f"builds: {analysis.ok}, {len(result.notes)} notes")
    parse_seconds = median_time(lambda: parse_code(source), args.repeats)
    analyse_seconds = median_time(lambda: analyze_for_display(parse_code(source).default_model.spec), args.repeats)
    print(f"parse only:        {parse_seconds * 1000:7.1f} ms (median of {args.repeats})")
    print(f"parse + analysis:  {analyse_seconds * 1000:7.1f} ms (budget 200 ms)")


if __name__ == "__main__":
    main()
