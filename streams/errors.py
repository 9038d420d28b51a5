"""Counts of handled errors, exported on /metrics."""

from __future__ import annotations

from prometheus_client import Counter

ERRORS = Counter("altlas_errors", "Errors handled and retried, by component", ["component"])
