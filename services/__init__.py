"""The predict and api services."""
