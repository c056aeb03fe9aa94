"""The predict service: app api."""
