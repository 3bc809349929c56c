"""The Train page's widgets: data and compile settings, job registry, progress, live charts, evaluation."""
