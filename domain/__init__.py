"""Aggregates, their events, value objects and policy rules: pure Python, no I/O."""
