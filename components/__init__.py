"""Reusable Streamlit pieces of Keras Functional Studio (the pure edit operations live in `edits`)."""
