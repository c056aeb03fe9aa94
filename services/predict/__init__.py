"""The predict service."""
