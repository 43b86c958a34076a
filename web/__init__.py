"""The Flask search interface over the index package."""
