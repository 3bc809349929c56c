"""The Export page's widgets: verified model files and the other downloads."""
