"""The Builder page's widgets: canvas, forms, node list, read-only views, code panel."""
