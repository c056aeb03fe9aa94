"""The api service: app api routes."""
