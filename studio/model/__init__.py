"""Spec -> Keras model and back: building, the weight-free analysis, the importer, feature maps."""

from studio.backend import import_tensorflow_quietly

import_tensorflow_quietly()
