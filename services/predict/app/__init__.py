"""The predict service: app."""
