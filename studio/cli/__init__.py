"""``python -m studio``: the command line and its commands."""
