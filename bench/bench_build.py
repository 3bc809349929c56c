"""Benchmark: spec -> model build time per preset against building the same model directly with
Keras (the generated functional-API code, executed in-process), and import + codegen + DOT time for
ResNet50. Run: .venv/bin/python bench/bench_build.py [--repeats N]"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import studio  # noqa: E402,F401,I001 - first, to quiet TensorFlow start-up logs
import keras  # noqa: E402
from studio.model.build import build_model  # noqa: E402
from studio.io.codegen import generate_code  # noqa: E402
from studio.io.diagram import DiagramOptions, diagram_dot  # noqa: E402
from studio.model.importer import spec_from_model  # noqa: E402
from studio.graph.presets import load_preset, preset_names  # noqa: E402


def paired_times(first, second, repeats: int) -> tuple[float, float]:
    """Median wall times of two functions, run alternately (after one warm-up each) so load hits both alike."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for function, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            function()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def direct_builder(code: str):
    """A function that runs generated Keras code and returns its model."""
    compiled = compile(code, "<generated>", "exec")

    def build() -> keras.Model:
        namespace: dict = {}
        exec(compiled, namespace)  # noqa: S102 - our own generated code, the 'plain Keras' baseline
        return namespace["model"]

    return build


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"{'preset':<18} {'studio s':>9} {'keras s':>9} {'ratio':>6}")
    for key in preset_names():
        spec = load_preset(key)
        repeats = 1 if key == "vgg16_features" else args.repeats
        studio_time, keras_time = paired_times(lambda spec=spec: build_model(spec), direct_builder(generate_code(spec)), repeats)
        print(f"{key:<18} {studio_time:9.3f} {keras_time:9.3f} {studio_time / keras_time:6.2f}")
    model = keras.applications.ResNet50(weights=None)
    start = time.perf_counter()
    spec = spec_from_model(model)
    imported = time.perf_counter()
    generate_code(spec)
    coded = time.perf_counter()
    diagram_dot(spec, DiagramOptions())
    drawn = time.perf_counter()
    print(
        f"ResNet50 ({len(spec.calls)} calls): import {imported - start:.2f} s, codegen {coded - imported:.2f} s, "
        f"DOT (includes a build) {drawn - coded:.2f} s, total {drawn - start:.2f} s"
    )


if __name__ == "__main__":
    main()
