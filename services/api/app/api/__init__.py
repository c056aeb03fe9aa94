"""The api service: app api."""
