"""The api service: app."""
