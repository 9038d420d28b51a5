"""Implementations of the application's ports, and the HTTP API."""
