"""The Runs page's widgets: the run store of this process and the run views."""
