"""The Models page's widgets: upload, fine-tuning, feature maps."""
