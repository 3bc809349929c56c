"""Loading TensorFlow (the Keras backend) without its start-up log lines on the terminal."""

import os
import re
import sys
import tempfile

_NOISE = re.compile(r"absl::InitializeLog|cudart_stub|cuda_platform|cpu_feature_guard|rebuild TensorFlow|oneDNN|cuInit")


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its start-up log lines (CUDA probing on a CPU machine) filtered out."""
    if "tensorflow" in sys.modules or os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    try:
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        import tensorflow  # noqa: F401

        return
    sys.stderr.flush()
    saved = os.dup(stderr_fd)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), stderr_fd)
        try:
            import tensorflow  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, stderr_fd)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not _NOISE.search(line):
                    print(line, file=sys.stderr)
