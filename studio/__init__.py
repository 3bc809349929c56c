"""Keras Functional Studio core: the layer-graph spec and everything derived from it (no UI code).

Packages, bottom to top: ``catalog`` < ``graph`` (no Keras) < ``model`` < ``io`` < ``training``;
``runs`` (no Keras) beside them; ``cli`` on top. Importing ``studio`` itself is cheap: TensorFlow
loads only when a Keras-using package is imported (see :mod:`studio.backend`).
"""

import os

# Quiet TensorFlow's C++ start-up chatter and pick the backend before anything imports Keras.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
