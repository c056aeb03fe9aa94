"""The api service: app core."""
