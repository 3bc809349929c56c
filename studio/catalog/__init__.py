"""The layer catalogue: a plain table of layer types (``table``, no Keras) and what Keras tells of them (``types``)."""
