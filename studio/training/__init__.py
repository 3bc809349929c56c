"""Training a spec: settings, data, callbacks, evaluation, the background job and its queue, standalone scripts."""

from studio.backend import import_tensorflow_quietly

import_tensorflow_quietly()
