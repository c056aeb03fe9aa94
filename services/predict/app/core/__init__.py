"""The predict service: app core."""
