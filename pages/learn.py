"""Learn: the first page, what the app is for and five lessons that walk the functional-API tutorial."""

# ruff: noqa: E402 - a page first makes sure it runs inside app.py, then imports the rest
from __future__ import annotations

from components.bootstrap import run_inside_app

run_inside_app()  # before the heavy imports below

from components.learn.views import render_learn

render_learn()
