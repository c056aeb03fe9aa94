"""The predict service: app api routes."""
