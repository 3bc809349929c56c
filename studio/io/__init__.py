"""What the studio writes and reads as files: Python code, diagrams, verified model files, project files."""

from studio.backend import import_tensorflow_quietly

import_tensorflow_quietly()
