"""The public api service."""
