"""The layer-graph spec and everything about it that needs no Keras: checks, naming, the edit engine, layout, presets."""
